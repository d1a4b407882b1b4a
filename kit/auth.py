"""Who is calling: JWT verification with pinned algorithms, the `Principal`, and its dependencies.

Tokens carry `sub`, `tenant`, `roles` (learner, guardian, teacher, admin, partner), `scope`
(space-separated), `iss`, `aud` and `exp`. Development tokens are signed with an Ed25519 key
kept under `var/keys/`; in production the district's identity provider is trusted through its
issuer and JWKS URL. API clients' tokens (OAuth 2.0 client credentials, issued by the profile
service) are signed with the same key under their own issuer, trusted by every app whatever
`dev_tokens` says, and carry at most the `partner` role.
"""

import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request

from kit.errors import ForbiddenError, UnauthorizedError
from kit.settings import AppSettings

ROLES = frozenset({"learner", "guardian", "teacher", "admin", "partner"})
CLIENT_ROLES = frozenset({"partner"})
XAPI_SCOPES = frozenset(
    {"statements/write", "statements/read", "statements/read/mine", "state", "define", "profile", "all/read", "all"}
)
"""xAPI's OAuth scopes: API clients hold them (profile service), the LRS checks them (progress service)."""
DEV_ALGORITHM = "EdDSA"


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of a request."""

    sub: str
    tenant_id: str
    roles: frozenset[str]
    scopes: frozenset[str]
    token: str = field(default="", repr=False)

    def has_role(self, *roles: str) -> bool:
        """Whether the caller holds any of `roles`."""
        return not self.roles.isdisjoint(roles)

    def has_scope(self, *scopes: str) -> bool:
        """Whether the caller holds any of `scopes`."""
        return not self.scopes.isdisjoint(scopes)


def ensure_dev_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the development signing key, creating it on first use (safe when processes race)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written aside, then linked into place: every app loads this key at start, and a racing
        # process must find no file or a whole key, never a half-written one.
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            out.write(pem)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def issue_token(
    key: Ed25519PrivateKey,
    *,
    issuer: str,
    audience: str,
    tenant_id: str,
    sub: str,
    roles: Iterable[str] = (),
    scopes: Iterable[str] = (),
    ttl_seconds: int = 3600,
) -> str:
    """Sign a token with `key` (development issuer, and the profile service's client tokens)."""
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "tenant": tenant_id,
        "roles": sorted(set(roles)),
        "scope": " ".join(sorted(set(scopes))),
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm=DEV_ALGORITHM)


@dataclass(frozen=True)
class TrustedIssuer:
    """An issuer whose tokens are accepted: its key source, allowed algorithms, and the roles it may grant."""

    issuer: str
    algorithms: tuple[str, ...]
    public_key: Ed25519PublicKey | None = None
    jwks: jwt.PyJWKClient | None = None
    roles: frozenset[str] = ROLES

    async def key_for(self, token: str) -> Any:
        """The verification key for `token`."""
        if self.public_key is not None:
            return self.public_key
        assert self.jwks is not None
        jwks = self.jwks
        signing_key = await anyio.to_thread.run_sync(jwks.get_signing_key_from_jwt, token)
        return signing_key.key


class TokenVerifier:
    """Verifies bearer tokens against the trusted issuers and one audience."""

    def __init__(self, issuers: Iterable[TrustedIssuer], audience: str) -> None:
        self.issuers = {i.issuer: i for i in issuers}
        self.audience = audience

    @classmethod
    def from_settings(cls, settings: AppSettings) -> "TokenVerifier":
        """API clients' issuer, the development issuer (unless `dev_tokens` is off) and a JWKS issuer."""
        issuers: list[TrustedIssuer] = []
        if settings.jwt_jwks_url:
            issuers.append(
                TrustedIssuer(
                    settings.jwt_issuer,
                    tuple(settings.jwt_algorithms),
                    jwks=jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=300),
                )
            )
        key = ensure_dev_signing_key(settings.signing_key_file)
        if settings.dev_tokens:
            issuers.append(TrustedIssuer(settings.dev_issuer, (DEV_ALGORITHM,), public_key=key.public_key()))
        issuers.append(
            TrustedIssuer(
                settings.client_token_issuer, (DEV_ALGORITHM,), public_key=key.public_key(), roles=CLIENT_ROLES
            )
        )
        return cls(issuers, settings.jwt_audience)

    async def verify(self, token: str) -> Principal:
        """Return the principal of a valid token or raise `UnauthorizedError`."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            trusted = self.issuers.get(str(unverified.get("iss")))
            if trusted is None:
                raise UnauthorizedError("Token issuer is not trusted.")
            claims = jwt.decode(
                token,
                await trusted.key_for(token),
                algorithms=list(trusted.algorithms),
                audience=self.audience,
                issuer=trusted.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(f"Invalid token: {exc}") from exc
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or not tenant:
            raise UnauthorizedError("Invalid token: the tenant claim is missing.")
        roles = claims.get("roles", [])
        if not isinstance(roles, list):
            raise UnauthorizedError("Invalid token: roles must be a list.")
        scope = claims.get("scope", "")
        if isinstance(scope, str):
            scopes = scope.split()
        elif isinstance(scope, list) and all(isinstance(s, str) for s in scope):
            scopes = scope
        else:
            raise UnauthorizedError("Invalid token: scope must be a space-separated string or a list of strings.")
        return Principal(
            sub=str(claims["sub"]),
            tenant_id=tenant,
            roles=frozenset(str(r) for r in roles) & ROLES & trusted.roles,
            scopes=frozenset(scopes),
            token=token,
        )


def bearer_token(request: Request) -> str:
    """The bearer token of the request, or `UnauthorizedError`."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("A bearer token is required.")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """The verified caller (FastAPI dependency)."""
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(bearer_token(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_scope(*accepted: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits callers holding at least one of the `accepted` scopes."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_scope(*accepted):
            raise ForbiddenError(f"This requires one of the scopes: {' '.join(accepted)}.")
        return principal

    return check


def require_role(*accepted: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits callers holding at least one of the `accepted` roles."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*accepted):
            raise ForbiddenError(f"This requires one of the roles: {', '.join(accepted)}.")
        return principal

    return check
