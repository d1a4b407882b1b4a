"""The xAPI wire rules shared by every `/xapi/` resource: version negotiation and headers.

Each request names the version it speaks in `X-Experience-API-Version`; the LRS answers in
that version (1.0.x requests follow 1.0.3's rules, 2.0.x requests 2.0.0's) and echoes it on
every response, errors included. Query parameters are matched exactly: an unknown one, or a
known one in the wrong case, is a 400 as the specification asks.
"""

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import BadRequestError
from services.progress_service.xapi_formats import Version

VERSION_HEADER = "X-Experience-API-Version"
CONSISTENT_THROUGH_HEADER = "X-Experience-API-Consistent-Through"
SUPPORTED_VERSIONS: tuple[Version, ...] = ("1.0.3", "2.0.0")
LATEST: Version = "2.0.0"
XAPI_PREFIX = "/xapi"
_ACCEPTED: dict[str, Version] = {
    **dict.fromkeys(("1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3"), "1.0.3"),
    **dict.fromkeys(("2.0", "2.0.0"), "2.0.0"),
}
_VERSION_HEADER_BYTES = VERSION_HEADER.lower().encode()


def version_of(header: str | None) -> Version | None:
    """The version whose rules answer a request carrying `header`; None when unsupported or absent."""
    return _ACCEPTED.get(header.strip()) if header else None


def requested_version(request: Request) -> Version:
    """FastAPI dependency: the request's xAPI version, or a 400 naming the header."""
    header = request.headers.get(VERSION_HEADER)
    version = version_of(header)
    if version is None:
        problem = "is required" if header is None else f"{header!r} is not supported"
        raise BadRequestError(
            f"{VERSION_HEADER} {problem}; this LRS speaks {', '.join(SUPPORTED_VERSIONS)}.", field=VERSION_HEADER
        )
    return version


XapiVersion = Annotated[Version, Depends(requested_version)]


def check_params(request: Request, allowed: Iterable[str]) -> dict[str, str]:
    """The query parameters, each known (case-sensitive) and sent once, or a 400 naming the first stray one."""
    known = set(allowed)
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in known:
            raise BadRequestError(f"Unknown query parameter {name!r}.", field=name)
        if name in params:
            raise BadRequestError(f"Query parameter {name!r} is given more than once.", field=name)
        params[name] = value
    return params


class XapiVersionHeaderMiddleware:
    """Echoes the request's xAPI version on every response under `/xapi` (the latest one when it is missing)."""

    def __init__(self, app: ASGIApp, prefix: str = XAPI_PREFIX) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(_VERSION_HEADER_BYTES, b"").decode("latin-1")
        version = (version_of(sent) or LATEST).encode()

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != _VERSION_HEADER_BYTES]
                message["headers"] = [*headers, (_VERSION_HEADER_BYTES, version)]
            await send(message)

        await self.app(scope, receive, send_with_version)
