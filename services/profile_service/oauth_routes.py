"""`POST /oauth/token`: OAuth 2.0 client credentials (RFC 6749 §4.4) for partner tools.

A standard surface, so it speaks RFC 6749 rather than problem+json: a form-encoded request, and
`{"error", "error_description"}` bodies (§5.2). The form is parsed here with the standard library,
since FastAPI's form support needs python-multipart, which the project does not depend on.
"""

import binascii
from base64 import b64decode
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kit.db import SessionDep
from kit.settings import AppSettings
from services.profile_service import api_clients
from services.profile_service.api_clients import (
    InvalidClientError,
    InvalidRequestError,
    OAuthError,
    UnsupportedGrantTypeError,
)

router = APIRouter()

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
GRANT_TYPE = "client_credentials"
MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 16
REALM = "plp"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": [GRANT_TYPE], "description": "Always `client_credentials`."},
        "scope": {
            "type": "string",
            "description": "Space-separated scopes wanted; omitted, every scope the client holds.",
        },
        "client_id": {"type": "string", "description": "With `client_secret`, instead of HTTP Basic."},
        "client_secret": {"type": "string", "description": "With `client_id`, instead of HTTP Basic."},
    },
}


class TokenResponse(BaseModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str = Field(description="A JWT to send as `Authorization: Bearer <token>`.")
    token_type: str = Field(description="Always `Bearer`.")
    expires_in: int = Field(description="Seconds until the token expires.")
    scope: str = Field(description="The scopes granted, space-separated (may be fewer than requested).")


class TokenErrorResponse(BaseModel):
    """A token error (RFC 6749 §5.2)."""

    error: str = Field(
        description="invalid_request, invalid_client, invalid_scope or unsupported_grant_type.",
    )
    error_description: str = Field(description="What went wrong, for the developer.")


async def _read_body(request: Request) -> bytes:
    """The request body, refusing more than `MAX_BODY_BYTES`."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY_BYTES:
            raise InvalidRequestError(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
    return bytes(body)


async def _read_form(request: Request) -> dict[str, str]:
    """The form parameters, each at most once; blank ones count as omitted (RFC 6749 §3.1)."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        raise InvalidRequestError(f"The request body must be {FORM_CONTENT_TYPE}.")
    try:
        text = (await _read_body(request)).decode("utf-8")
        fields = parse_qs(
            text, keep_blank_values=True, strict_parsing=False, errors="strict", max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestError("The request body is not a valid UTF-8 form.") from exc
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise InvalidRequestError(f"Parameters may be sent once only: {', '.join(repeated)}.")
    return {name: values[0] for name, values in fields.items() if values[0]}


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """Client id and secret of an HTTP Basic header (form-decoded, RFC 6749 §2.3.1), if it is Basic."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = b64decode(encoded.strip(), validate=True).decode("utf-8")
        client_id, colon, client_secret = decoded.partition(":")
        if not colon:
            raise ValueError("no colon")
        return unquote_plus(client_id, errors="strict"), unquote_plus(client_secret, errors="strict")
    except (binascii.Error, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise InvalidClientError("The Basic credentials are malformed.") from exc


def _credentials(authorization: str | None, form: Mapping[str, str]) -> tuple[str, str]:
    """The client's credentials, from exactly one method: HTTP Basic or the form."""
    basic = _basic_credentials(authorization) if authorization else None
    if basic is not None:
        if "client_secret" in form:
            raise InvalidRequestError("Authenticate with HTTP Basic or with client_secret in the form, not both.")
        if form.get("client_id", basic[0]) != basic[0]:
            raise InvalidRequestError("The client_id in the form is not the one in the Basic credentials.")
        client_id, client_secret = basic
    else:
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    if not client_id or not client_secret:
        raise InvalidClientError("Client authentication is required: HTTP Basic, or client_id and client_secret.")
    return client_id, client_secret


def _error_response(exc: OAuthError) -> JSONResponse:
    headers = dict(NO_STORE)
    if exc.status == 401:
        # RFC 6749 §5.2 requires the challenge when the client tried Basic; HTTP requires one on
        # every 401 (RFC 9110 §15.5.2), and Basic is the scheme a client may use here.
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    body = TokenErrorResponse(error=exc.code, error_description=exc.detail)
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=headers)


@router.post(
    "/oauth/token",
    tags=["oauth"],
    summary="Get an access token (OAuth 2.0 client credentials)",
    response_model=None,
    responses={
        200: {"model": TokenResponse, "description": "The token; `Cache-Control: no-store`."},
        400: {
            "model": TokenErrorResponse,
            "description": "invalid_request, invalid_scope or unsupported_grant_type.",
        },
        401: {"model": TokenErrorResponse, "description": "invalid_client, with `WWW-Authenticate: Basic`."},
    },
    openapi_extra={"requestBody": {"required": True, "content": {FORM_CONTENT_TYPE: {"schema": FORM_SCHEMA}}}},
)
async def issue_token(request: Request, session: SessionDep) -> Response:
    """Exchange a client's id and secret (HTTP Basic, or `client_id`/`client_secret` in the form) for a token."""
    settings: AppSettings = request.app.state.settings
    try:
        form = await _read_form(request)
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise InvalidRequestError("grant_type is required.")
        if grant_type != GRANT_TYPE:
            raise UnsupportedGrantTypeError(f"Only the {GRANT_TYPE} grant is supported.")
        client_id, client_secret = _credentials(request.headers.get("authorization"), form)
        granted = await api_clients.grant_client_token(session, settings, client_id, client_secret, form.get("scope"))
    except OAuthError as exc:
        return _error_response(exc)
    body = TokenResponse(
        access_token=granted.access_token,
        token_type="Bearer",  # noqa: S106 - the token type's name, not a password
        expires_in=granted.expires_in,
        scope=" ".join(granted.scopes),
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)
