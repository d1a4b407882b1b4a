"""Structured JSON logs and the request id that ties one request's lines together."""

import logging
import sys
import time
from contextvars import ContextVar, Token
from typing import Any

import orjson

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_app_name: ContextVar[str | None] = ContextVar("app_name", default=None)
REQUEST_ID_HEADER = "x-request-id"


def current_request_id() -> str | None:
    """The id of the request being handled, if any."""
    return _request_id.get()


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, app, message, request id, extras.

    `app` is the app handling the current request, else the process's app (several apps share
    one process in tests and embedded setups).
    """

    def __init__(self, app_name: str) -> None:
        super().__init__()
        self.app_name = app_name

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a JSON line."""
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "app": _app_name.get() or self.app_name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(app_name: str, level: str = "INFO") -> None:
    """Send the `plp` and the server's (`uvicorn`) loggers to stderr as JSON lines (idempotent).

    uvicorn's own access lines are dropped: `plp.access` writes one per request, with its id.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(app_name))
    for logger in (logging.getLogger("plp"), logging.getLogger("uvicorn")):
        logger.setLevel(level.upper())
        logger.propagate = False
        logger.handlers = [handler]
    server_access = logging.getLogger("uvicorn.access")
    server_access.propagate = False
    server_access.handlers = [logging.NullHandler()]


RequestBinding = tuple[Token[str | None], Token[str | None]]


def bind_request(request_id: str | None, app_name: str | None = None) -> RequestBinding:
    """Make `request_id` (handled by `app_name`) the current request; returns what `unbind_request` restores."""
    return _request_id.set(request_id), _app_name.set(app_name)


def unbind_request(binding: RequestBinding) -> None:
    """Restore the request that was current before `bind_request`."""
    request_token, app_token = binding
    _app_name.reset(app_token)
    _request_id.reset(request_token)
