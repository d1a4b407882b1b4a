"""Per-request frame: an id for every request, one access log line, and a last-resort 500.

The app, not the server, writes the `Date` header (so there is exactly one, as xAPI asks):
run uvicorn with `--no-date-header`.

It is the outermost middleware of every app, so even an unexpected error becomes a
problem+json response that carries the request id (in the body and in `X-Request-ID`).
"""

import logging
import time
import uuid
from email.utils import formatdate

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import problem_response
from kit.logging import REQUEST_ID_HEADER, bind_request, unbind_request

access_logger = logging.getLogger("plp.access")
error_logger = logging.getLogger("plp.errors")


def _request_id_from(scope: Scope) -> str:
    incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
    return incoming if 0 < len(incoming) <= 128 and incoming.isprintable() else uuid.uuid4().hex


class RequestContextMiddleware:
    """Gives each request an id (from `X-Request-ID` or new), echoes it with a `Date`, and logs one access line."""

    def __init__(self, app: ASGIApp, app_name: str | None = None) -> None:
        self.app = app
        self.app_name = app_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id_from(scope)
        binding = bind_request(request_id, self.app_name)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"date" for name, _ in headers):
                    headers.append((b"date", formatdate(usegmt=True).encode()))
                message["headers"] = [*headers, (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if response_started:
                raise
            response = problem_response(500, "Internal server error", "An unexpected error occurred.", "internal_error")
            await response(scope, receive, send_with_id)
        finally:
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            }
            access_logger.info("request", extra={"fields": fields})
            unbind_request(binding)
