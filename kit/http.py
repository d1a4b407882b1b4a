"""Outgoing HTTP between apps: one lifespan-owned client per app, timeouts, forwarded identity."""

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from kit.errors import (
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
)
from kit.logging import REQUEST_ID_HEADER, current_request_id

Mounts = Mapping[str, httpx.AsyncBaseTransport]


def make_client(timeout_seconds: float, mounts: Mounts | None = None) -> httpx.AsyncClient:
    """A client with timeouts and pooled connections.

    `mounts` routes URL prefixes to other transports: tests mount the real apps in process
    with `httpx.ASGITransport`, so the same client code runs against them.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        mounts=dict(mounts or {}),
    )


def forwarded_headers(token: str) -> dict[str, str]:
    """Headers that carry the caller's identity and the request id to another app."""
    headers = {"Authorization": f"Bearer {token}"}
    request_id = current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return headers


def segment(value: str) -> str:
    """`value` escaped for use as one URL path segment (so `../x` or `a?b` stay one id)."""
    return quote(value, safe="")


class ServiceClient:
    """A typed client's base: JSON calls to one app with the caller's token forwarded.

    Reads retry once on a transport error or 5xx; writes never retry. Failures map to the
    kit's errors (404 -> `NotFoundError`, 403 -> `ForbiddenError`, down -> `UnavailableError`).
    """

    def __init__(self, http: httpx.AsyncClient, base_url: str, name: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.name = name

    async def get(self, path: str, token: str, params: Mapping[str, str] | None = None) -> Any:
        """GET `path` and return its JSON body."""
        return await self._call("GET", path, token, params=params, retries=1)

    async def post(self, path: str, token: str, body: Any) -> Any:
        """POST `body` as JSON to `path` and return the JSON answer."""
        return await self._call("POST", path, token, json=body, retries=0)

    async def _call(self, method: str, path: str, token: str, *, retries: int, **kwargs: Any) -> Any:
        url = self.base_url + path
        for attempt in range(retries + 1):
            try:
                response = await self.http.request(method, url, headers=forwarded_headers(token), **kwargs)
            except httpx.TransportError as exc:
                if attempt < retries:
                    continue
                raise UnavailableError(f"The {self.name} service is not answering.") from exc
            if response.status_code >= 500 and attempt < retries:
                continue
            return _json_or_raise(response, self.name)
        raise AssertionError("unreachable")


_MAPPED_ERRORS: dict[int, type[AppError]] = {
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


def _json_or_raise(response: httpx.Response, service: str) -> Any:
    if response.is_success:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise UnavailableError(f"The {service} service answered with a body that is not JSON.") from exc
    detail = f"The {service} service answered {response.status_code}."
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        with contextlib.suppress(ValueError, AttributeError):
            detail = str(response.json().get("detail", detail))
    if response.status_code >= 500:
        raise UnavailableError(detail)
    raise _MAPPED_ERRORS.get(response.status_code, BadRequestError)(detail)
