"""Errors on the OneRoster surface, in the spec's `imsx_StatusInfo` shape.

Under `/ims/oneroster/` every failure (ours, request validation, Starlette's 404/405) is
rendered as OneRoster 1.2 expects: `imsx_codeMajor`, `imsx_severity`, `imsx_description` and
`imsx_CodeMinor` with the spec's codeMinor values. The same body also carries the RFC 9457
members (`title`, `status`, `detail`, `field`) so generic HTTP tooling reads it too.
Elsewhere the kit's problem+json rendering applies unchanged.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kit.errors import AppError, field_errors, handle_app_error, handle_http_error, handle_validation_error
from kit.logging import current_request_id

ONEROSTER_PREFIX = "/ims/oneroster/"
CODE_MINOR_BY_STATUS = {
    400: "invaliddata",
    401: "unauthorisedrequest",
    403: "forbidden",
    404: "unknownobject",
    405: "unsupported",
    409: "invaliddata",
    422: "invaliddata",
    503: "server_busy",
}


class OneRosterError(AppError):
    """A failure with an explicit OneRoster codeMinor (e.g. `invalid_filter_field`)."""

    def __init__(self, status: int, code_minor: str, detail: str, field: str | None = None) -> None:
        super().__init__(detail, **({"field": field} if field else {}))
        self.status = status
        self.code = code_minor
        self.title = code_minor


def status_info(
    status: int,
    code_minor: str,
    description: str,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """One `imsx_StatusInfo` response (with problem+json members beside it)."""
    body: dict[str, Any] = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code_minor}
            ]
        },
        **(extra or {}),
        "title": code_minor,
        "status": status,
        "detail": description,
        "request_id": current_request_id(),
    }
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=all_headers)


def _code_minor(exc: AppError) -> str:
    return exc.code if isinstance(exc, OneRosterError) else CODE_MINOR_BY_STATUS.get(exc.status, "invaliddata")


async def _app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    return status_info(exc.status, _code_minor(exc), exc.detail, dict(exc.extra))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc)
    description = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return status_info(400, "invaliddata", description, {"field": errors[0]["field"], "errors": errors})


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code_minor = CODE_MINOR_BY_STATUS.get(exc.status_code, "invaliddata")
    return status_info(exc.status_code, code_minor, str(exc.detail), headers=dict(exc.headers or {}))


Handler = Callable[[Request, Exception], Awaitable[Response]]


def _by_path(oneroster: Handler, default: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        chosen = oneroster if request.url.path.startswith(ONEROSTER_PREFIX) else default
        return await chosen(request, exc)

    return handle


def install_oneroster_errors(app: FastAPI) -> None:
    """Render errors under `/ims/oneroster/` as `imsx_StatusInfo`, and elsewhere as before."""
    app.add_exception_handler(AppError, _by_path(_app_error, handle_app_error))
    app.add_exception_handler(RequestValidationError, _by_path(_validation_error, handle_validation_error))
    app.add_exception_handler(StarletteHTTPException, _by_path(_http_error, handle_http_error))
