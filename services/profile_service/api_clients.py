"""API clients (partner tools) and their tenants: registration, secrets, and the client credentials grant.

No FastAPI here: `oauth_routes` renders these outcomes as RFC 6749 responses and `plp client`
as a command line. Errors of the token endpoint are typed by their RFC 6749 §5.2 `error` code:

    OAuthError                    base; `code` is the `error` value, `detail` its description
      InvalidRequestError         400 invalid_request
      InvalidClientError          401 invalid_client (unknown, revoked, or wrong secret: one error for all)
      InvalidScopeError           400 invalid_scope
      UnsupportedGrantTypeError   400 unsupported_grant_type
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import anyio.to_thread
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import ensure_dev_signing_key, issue_token
from kit.db import insert_if_absent
from kit.errors import AppError, BadRequestError, NotFoundError
from kit.settings import AppSettings
from services.profile_service.models import ApiClient, Tenant, utc_now
from services.profile_service.scopes import KNOWN_SCOPES

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
"""A district id, e.g. `riverbend`: lowercase letters, digits and hyphens, at most 63."""
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
"""What a client id can look like; anything else is not looked up."""
CLIENT_TOKEN_TTL_SECONDS = 3600
CLIENT_ROLE = "partner"
NAME_MAX_LENGTH = 255
HASH_SCHEME = "sha256"


class OAuthError(AppError):
    """An error of the token endpoint, named by its RFC 6749 §5.2 `error` code."""

    status, code, title = 400, "invalid_request", "Invalid request"


class InvalidRequestError(OAuthError):
    """The token request is malformed: wrong content type, repeated or missing parameters."""


class InvalidClientError(OAuthError):
    """Client authentication failed: unknown client, revoked client, or wrong secret."""

    status, code, title = 401, "invalid_client", "Client authentication failed"


class InvalidScopeError(OAuthError):
    """The requested scope is unknown to the client or grants nothing."""

    code, title = "invalid_scope", "Invalid scope"


class UnsupportedGrantTypeError(OAuthError):
    """The grant type is not `client_credentials`."""

    code, title = "unsupported_grant_type", "Unsupported grant type"


@dataclass(frozen=True, slots=True)
class ClientToken:
    """An access token issued to a client, with its lifetime and the scopes it grants."""

    access_token: str
    expires_in: int
    scopes: list[str]


# Client secrets are 256-bit random values, not passwords a person chose: there is no dictionary
# to try, so the work factor of bcrypt or argon2 would buy nothing and would only make every token
# request slow and CPU-bound. One SHA-256 is as safe for such a secret and costs microseconds. It is
# not keyed with a server-side pepper either: that would be one more secret to deploy and rotate,
# guarding against nothing a 256-bit preimage does not already. The `sha256$` prefix names the
# scheme, so a stronger one can be introduced beside it later.
def hash_secret(secret: str) -> str:
    """The stored form of a client secret: `sha256$<hex digest>`."""
    return f"{HASH_SCHEME}${hashlib.sha256(secret.encode()).hexdigest()}"


def secret_matches(secret: str, stored: str) -> bool:
    """Whether `secret` hashes to `stored`, compared in constant time."""
    return hmac.compare_digest(hash_secret(secret), stored)


_NO_CLIENT_HASH = hash_secret(secrets.token_urlsafe(32))
"""Compared against when no client matches, so an unknown id costs what a wrong secret does."""


def check_tenant_id(tenant_id: str) -> None:
    """Raise `BadRequestError` (field `tenant`) unless `tenant_id` is a valid district id."""
    if not TENANT_ID.fullmatch(tenant_id):
        raise BadRequestError(
            f"Invalid tenant {tenant_id!r}: use 1 to 63 lowercase letters, digits and hyphens, "
            "starting with a letter or digit (e.g. riverbend).",
            field="tenant",
        )


async def ensure_tenant(session: AsyncSession, tenant_id: str) -> Tenant:
    """The tenant `tenant_id`, created if missing (safe when two callers race)."""
    check_tenant_id(tenant_id)
    await insert_if_absent(session, Tenant, {"id": tenant_id, "created_at": utc_now()})
    tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None  # inserted above, or by whoever won the race
    return tenant


async def create_client(
    session: AsyncSession, tenant_id: str, scopes: Iterable[str], name: str | None = None
) -> tuple[ApiClient, str]:
    """Register a client of `tenant_id` (created if new) holding `scopes`; returns it and its secret.

    The secret is returned once and only its hash is stored.
    """
    wanted = sorted(set(scopes))
    unknown = [scope for scope in wanted if scope not in KNOWN_SCOPES]
    if unknown:
        raise BadRequestError(
            f"Unknown scope {', '.join(unknown)}; known scopes: {' '.join(sorted(KNOWN_SCOPES))}.", field="scopes"
        )
    if not wanted:
        raise BadRequestError(f"Give at least one scope: {' '.join(sorted(KNOWN_SCOPES))}.", field="scopes")
    if name is not None and len(name) > NAME_MAX_LENGTH:
        raise BadRequestError(f"The name is longer than {NAME_MAX_LENGTH} characters.", field="name")
    await ensure_tenant(session, tenant_id)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        # Hex, not base64url: an id starting with `-` would read as an option on a command line.
        client_id=secrets.token_hex(16),
        tenant_id=tenant_id,
        name=name or None,
        secret_hash=hash_secret(secret),
        scopes=wanted,
    )
    session.add(client)
    await session.flush()
    return client, secret


async def list_clients(session: AsyncSession, tenant_id: str) -> list[ApiClient]:
    """The clients of `tenant_id`, revoked ones included, oldest first."""
    check_tenant_id(tenant_id)
    query = (
        select(ApiClient)
        .where(col(ApiClient.tenant_id) == tenant_id)
        .order_by(col(ApiClient.created_at), col(ApiClient.client_id))
    )
    return list(await session.exec(query))


async def revoke_client(session: AsyncSession, client_id: str) -> ApiClient:
    """Revoke a client: it gets no further tokens (revoking again keeps the first time)."""
    client = await session.get(ApiClient, client_id) if CLIENT_ID.fullmatch(client_id) else None
    if client is None:
        raise NotFoundError(f"No client {client_id!r}.", field="client_id")
    if client.revoked_at is None:
        client.revoked_at = utc_now()
        session.add(client)
        await session.flush()
    return client


async def authenticate_client(session: AsyncSession, client_id: str, client_secret: str) -> ApiClient:
    """The active client `client_id` if `client_secret` is its secret; otherwise `InvalidClientError`.

    Unknown, revoked and wrong-secret all fail the same way, after the same hash comparison.
    """
    client = await session.get(ApiClient, client_id) if CLIENT_ID.fullmatch(client_id) else None
    matches = secret_matches(client_secret, client.secret_hash if client is not None else _NO_CLIENT_HASH)
    if client is None or client.revoked_at is not None or not matches:
        raise InvalidClientError("Client authentication failed.")
    return client


def grant_scopes(held: Iterable[str], requested: str | None) -> list[str]:
    """The scopes to grant: all `held` when none are requested, else the requested ones held.

    Requested scopes the client does not hold are dropped (RFC 6749 §3.3 lets the server grant
    less; the token response says what was granted); `InvalidScopeError` if nothing is left.
    """
    held_scopes = set(held)
    wanted = requested.split() if requested else []
    granted = held_scopes.intersection(wanted) if wanted else held_scopes
    if not granted:
        raise InvalidScopeError("None of the requested scopes is granted to this client.")
    return sorted(granted)


def issue_client_token(settings: AppSettings, client: ApiClient, scopes: Iterable[str]) -> tuple[str, int]:
    """A signed access token for `client` with `scopes`, and its lifetime in seconds."""
    token = issue_token(
        ensure_dev_signing_key(settings.signing_key_file),
        issuer=settings.client_token_issuer,
        audience=settings.jwt_audience,
        tenant_id=client.tenant_id,
        sub=client.client_id,
        roles=[CLIENT_ROLE],
        scopes=scopes,
        ttl_seconds=CLIENT_TOKEN_TTL_SECONDS,
    )
    return token, CLIENT_TOKEN_TTL_SECONDS


async def grant_client_token(
    session: AsyncSession, settings: AppSettings, client_id: str, client_secret: str, requested_scope: str | None
) -> ClientToken:
    """The client credentials grant: authenticate the client, narrow the scopes, issue a token."""
    client = await authenticate_client(session, client_id, client_secret)
    scopes = grant_scopes(client.scopes, requested_scope)
    # Signing reads the key file: keep that off the event loop.
    token, expires_in = await anyio.to_thread.run_sync(issue_client_token, settings, client, scopes)
    return ClientToken(access_token=token, expires_in=expires_in, scopes=scopes)
