"""Typed errors and their one rendering: RFC 9457 problem+json.

Hierarchy:
    AppError                 base; carries status, code and a human title
      BadRequestError        400 the request is malformed beyond schema validation
      UnauthorizedError      401 no or invalid credentials
      ForbiddenError         403 authenticated but not allowed
      NotFoundError          404 no such object (or not visible to the caller)
      ConflictError          409 the request conflicts with stored state
      UnavailableError       503 a dependency (database, another service) is not answering
Request validation errors become 422 with `errors: [{field, message}]`; anything else is a
logged 500 carrying the request id (rendered by `kit.request_context`, the outermost middleware).
"""

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kit.logging import current_request_id
from kit.payloads import UNION_BRANCH_TAGS

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An expected failure that maps to an HTTP status and a machine-readable code."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class BadRequestError(AppError):
    """The request is malformed in a way schema validation cannot see."""


class UnauthorizedError(AppError):
    """No credentials, or credentials that do not verify."""

    status, code, title = 401, "unauthorized", "Unauthorized"


class ForbiddenError(AppError):
    """The caller is known but may not do this."""

    status, code, title = 403, "forbidden", "Forbidden"


class NotFoundError(AppError):
    """No such object, or none the caller may know about."""

    status, code, title = 404, "not_found", "Not found"


class ConflictError(AppError):
    """The request conflicts with what is stored."""

    status, code, title = 409, "conflict", "Conflict"


class UnavailableError(AppError):
    """A dependency is not answering."""

    status, code, title = 503, "unavailable", "Service unavailable"


def problem_response(
    status: int,
    title: str,
    detail: str,
    code: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render one RFC 9457 problem document.

    `extra` adds members (e.g. `field`); it cannot replace the standard ones.
    """
    body: dict[str, Any] = dict(extra or {})
    body.update(
        type=f"https://plp.dev/problems/{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        request_id=current_request_id(),
    )
    all_headers = dict(headers or {})
    if status == 401:
        all_headers.setdefault("WWW-Authenticate", "Bearer")
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def field_path(loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted field name (union branch tags and `body.` left out)."""
    parts = [str(p) for p in loc if p not in UNION_BRANCH_TAGS]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """The `{field, message}` list of a request validation error."""
    return [_field_error(e) for e in exc.errors()]


def _field_error(error: Mapping[str, Any]) -> dict[str, str]:
    if error.get("type") == "json_invalid":  # its location is a character position, not a field
        return {"field": "body", "message": f"{error['msg']}: {error.get('ctx', {}).get('error', 'not JSON')}"}
    return {"field": field_path(tuple(error["loc"])), "message": str(error["msg"])}


async def handle_app_error(_request: Request, exc: Exception) -> Response:
    """Render an `AppError` as problem+json."""
    assert isinstance(exc, AppError)
    return problem_response(exc.status, exc.title, exc.detail, exc.code, exc.extra)


async def handle_validation_error(_request: Request, exc: Exception) -> Response:
    """Render a request validation error as a 422 problem listing `{field, message}`."""
    assert isinstance(exc, RequestValidationError)
    errors = field_errors(exc)
    fields = ", ".join(e["field"] for e in errors)
    return problem_response(422, "Invalid request", f"Invalid fields: {fields}", "validation_error", {"errors": errors})


async def handle_http_error(_request: Request, exc: Exception) -> Response:
    """Render Starlette's HTTP errors (404 route, 405 method...) as problem+json."""
    assert isinstance(exc, StarletteHTTPException)
    title = str(exc.detail) if exc.detail else "HTTP error"
    return problem_response(exc.status_code, title, title, f"http_{exc.status_code}", headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of `app` as problem+json."""
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
