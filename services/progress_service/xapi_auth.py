"""Who is calling an xAPI resource: bearer tokens, or HTTP Basic with an API client's credentials.

Most LRS clients authenticate with Basic. The profile service owns API clients, so Basic
credentials are exchanged there for a client-credentials token (RFC 6749 §4.4 with
`client_secret_basic`); the verified token's principal is kept for a minute under a hash of the
credentials, so a stream of statements costs one exchange. The xAPI scopes (`statements/write`,
`statements/read`, `statements/read/mine`, `state`, `define`, `profile`, `all/read`, `all`) are
the client's scopes from `plp client create --scopes`.
"""

import hashlib
import time
from collections import OrderedDict
from typing import Annotated

import httpx
from fastapi import Depends, Request

from kit.auth import Principal, TokenVerifier, bearer_token
from kit.errors import UnauthorizedError, UnavailableError

STATEMENTS_WRITE = frozenset({"statements/write", "all"})
STATEMENTS_READ = frozenset({"statements/read", "all/read", "all"})
STATEMENTS_READ_MINE = frozenset({"statements/read/mine"})
STATE_WRITE = frozenset({"state", "all"})
STATE_READ = STATE_WRITE | {"all/read"}
PROFILE_WRITE = frozenset({"profile", "all"})
PROFILE_READ = PROFILE_WRITE | {"all/read"}
DEFINE = frozenset({"define", "all"})


class BasicCredentials:
    """Exchanges API client credentials for a verified principal at the profile service, caching briefly."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        profile_url: str,
        verifier: TokenVerifier,
        ttl_seconds: float = 60.0,
        max_entries: int = 1_000,
    ) -> None:
        self.http = http
        self.token_url = profile_url.rstrip("/") + "/oauth/token"
        self.verifier = verifier
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._cache: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()

    async def principal(self, authorization: str) -> Principal:
        """The principal of a `Basic ...` header value, or `UnauthorizedError`."""
        key = hashlib.sha256(authorization.encode()).digest()
        cached = self._cache.get(key)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        token, expires_in = await self._exchange(authorization)
        principal = await self.verifier.verify(token)
        self._cache[key] = (now + min(self.ttl_seconds, max(expires_in - 30, 0)), principal)
        if len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return principal

    async def _exchange(self, authorization: str) -> tuple[str, int]:
        try:
            response = await self.http.post(
                self.token_url,
                headers={"Authorization": authorization, "Content-Type": "application/x-www-form-urlencoded"},
                content=b"grant_type=client_credentials",
            )
        except httpx.TransportError as exc:
            raise UnavailableError(
                "The profile service, which checks API client credentials, is not answering."
            ) from exc
        if response.status_code in (400, 401):
            raise UnauthorizedError("The Basic credentials are not those of an active API client.")
        if not response.is_success:
            raise UnavailableError(f"The profile service answered {response.status_code} to a credentials check.")
        body = response.json()
        return str(body["access_token"]), int(body.get("expires_in", 0))


async def xapi_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, from a bearer token or Basic API client credentials."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        credentials: BasicCredentials = request.app.state.basic_credentials
        return await credentials.principal(header)
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(bearer_token(request))


XapiPrincipal = Annotated[Principal, Depends(xapi_principal)]
