"""`kit.http`: the outgoing client, forwarded identity, retries of reads, and errors mapped to the kit's."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.auth import CurrentPrincipal, ensure_dev_signing_key, issue_token
from kit.errors import (
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
    install_error_handlers,
    problem_response,
)
from kit.http import ServiceClient, forwarded_headers, make_client, segment
from kit.logging import bind_request, unbind_request
from tests.kit.asgi import serve

SERVICE_URL = "http://svc.test"


class Downstream:
    """A tiny service to call, counting the calls each route receives."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.app = FastAPI()
        install_error_handlers(self.app)
        app = self.app

        @app.get("/echo")
        async def echo(request: Request) -> dict[str, Any]:
            self.count("echo")
            return {
                "authorization": request.headers.get("authorization"),
                "request_id": request.headers.get("x-request-id"),
                "params": dict(request.query_params),
            }

        @app.post("/echo")
        async def echo_body(request: Request) -> Any:
            self.count("post-echo")
            return await request.json()

        @app.get("/problem/{status}")
        async def problem(status: int) -> None:
            errors: dict[int, type[AppError]] = {
                400: BadRequestError,
                401: UnauthorizedError,
                403: ForbiddenError,
                404: NotFoundError,
                409: ConflictError,
            }
            raise errors[status](f"Downstream says {status}.")

        @app.get("/plain-404")
        async def plain_404() -> PlainTextResponse:
            return PlainTextResponse("nope", status_code=404)

        @app.get("/teapot")
        async def teapot() -> PlainTextResponse:
            return PlainTextResponse("short and stout", status_code=418)

        @app.get("/html")
        async def html() -> PlainTextResponse:
            return PlainTextResponse("<html>a proxy's page</html>", media_type="text/html")

        @app.get("/garbled-problem")
        async def garbled_problem() -> Response:
            return Response(b"not json", status_code=404, media_type="application/problem+json")

        @app.get("/items/{item_id}")
        async def item(item_id: str) -> dict[str, str]:
            return {"item_id": item_id}

        @app.get("/empty")
        async def empty() -> Response:
            return Response(status_code=204)

        @app.get("/always-500")
        async def always_500() -> Response:
            self.count("always-500")
            return problem_response(500, "Internal server error", "Downstream broke.", "internal_error")

        @app.post("/always-500")
        async def post_always_500() -> Response:
            self.count("post-always-500")
            return problem_response(500, "Internal server error", "Downstream broke.", "internal_error")

        @app.get("/flaky")
        async def flaky() -> JSONResponse:
            attempt = self.count("flaky")
            if attempt == 1:
                return JSONResponse({"detail": "warming up"}, status_code=503)
            return JSONResponse({"attempt": attempt})

        @app.get("/flaky-404")
        async def flaky_404() -> Response:
            attempt = self.count("flaky-404")
            if attempt == 1:
                return PlainTextResponse("bad gateway", status_code=502)
            return problem_response(404, "Not found", "Gone for good.", "not_found")

    def count(self, route: str) -> int:
        """Count one call of `route` and return how many there were."""
        self.calls[route] = self.calls.get(route, 0) + 1
        return self.calls[route]


class FailingTransport(httpx.AsyncBaseTransport):
    """A fault injector for our own client: every request fails before any answer."""

    def __init__(self, error: type[httpx.TransportError]) -> None:
        self.error = error
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Fail the way a down or silent service does."""
        self.attempts += 1
        raise self.error("simulated transport failure", request=request)


@pytest.fixture
def downstream() -> Downstream:
    """A fresh downstream service."""
    return Downstream()


@pytest.fixture
async def svc(downstream: Downstream) -> AsyncIterator[ServiceClient]:
    """A service client of the downstream service."""
    http = make_client(5, mounts={SERVICE_URL: httpx.ASGITransport(app=downstream.app)})
    async with http:
        yield ServiceClient(http, SERVICE_URL + "/", "svc")


class TestMakeClient:
    async def test_the_timeout_applies_to_every_phase(self) -> None:
        async with make_client(2.5) as http:
            assert http.timeout == httpx.Timeout(2.5)

    async def test_a_mounted_prefix_goes_to_its_transport(self, downstream: Downstream) -> None:
        async with make_client(5, mounts={SERVICE_URL: httpx.ASGITransport(app=downstream.app)}) as http:
            response = await http.get(f"{SERVICE_URL}/echo")
        assert response.status_code == 200
        assert downstream.calls == {"echo": 1}


class TestForwardedHeaders:
    def test_outside_a_request_only_the_token_is_forwarded(self) -> None:
        assert forwarded_headers("tok") == {"Authorization": "Bearer tok"}

    def test_inside_a_request_its_id_is_forwarded(self) -> None:
        token = bind_request("req-123")
        try:
            assert forwarded_headers("tok") == {"Authorization": "Bearer tok", "x-request-id": "req-123"}
        finally:
            unbind_request(token)


class TestServiceClientGet:
    async def test_the_json_body_is_returned_with_the_token_forwarded(self, svc: ServiceClient) -> None:
        body = await svc.get("/echo", "tok-1", params={"school": "s1"})
        assert body == {"authorization": "Bearer tok-1", "request_id": None, "params": {"school": "s1"}}

    async def test_the_current_request_id_is_forwarded(self, svc: ServiceClient) -> None:
        token = bind_request("req-abc")
        try:
            body = await svc.get("/echo", "tok-1")
        finally:
            unbind_request(token)
        assert body["request_id"] == "req-abc"

    async def test_an_empty_answer_is_none(self, svc: ServiceClient) -> None:
        assert await svc.get("/empty", "tok") is None

    async def test_a_success_that_is_not_json_is_unavailable(self, svc: ServiceClient) -> None:
        with pytest.raises(UnavailableError, match="not JSON"):
            await svc.get("/html", "tok")

    async def test_a_problem_body_that_is_not_json_still_maps_by_status(self, svc: ServiceClient) -> None:
        with pytest.raises(NotFoundError, match=r"^The svc service answered 404\.$"):
            await svc.get("/garbled-problem", "tok")

    @pytest.mark.parametrize("item_id", ["a?b=c", "a#b", "a b%", "x:y@z"])
    async def test_an_escaped_segment_stays_one_path_segment(self, svc: ServiceClient, item_id: str) -> None:
        assert await svc.get(f"/items/{segment(item_id)}", "tok") == {"item_id": item_id}

    async def test_an_escaped_segment_cannot_climb_to_another_route(
        self, svc: ServiceClient, downstream: Downstream
    ) -> None:
        with pytest.raises(NotFoundError):
            await svc.get(f"/items/{segment('../echo')}", "tok")
        assert "echo" not in downstream.calls

    @pytest.mark.parametrize(
        ("status", "error"),
        [(401, UnauthorizedError), (403, ForbiddenError), (404, NotFoundError), (409, ConflictError)],
    )
    async def test_a_problem_maps_to_the_kit_error_with_its_detail(
        self, svc: ServiceClient, status: int, error: type[AppError]
    ) -> None:
        with pytest.raises(error) as raised:
            await svc.get(f"/problem/{status}", "tok")
        assert type(raised.value) is error
        assert raised.value.detail == f"Downstream says {status}."

    async def test_another_client_error_is_a_bad_request(self, svc: ServiceClient) -> None:
        with pytest.raises(BadRequestError) as raised:
            await svc.get("/teapot", "tok")
        assert type(raised.value) is BadRequestError
        assert raised.value.detail == "The svc service answered 418."

    async def test_a_non_problem_error_gets_a_generic_detail(self, svc: ServiceClient) -> None:
        with pytest.raises(NotFoundError, match=r"^The svc service answered 404\.$"):
            await svc.get("/plain-404", "tok")

    async def test_a_server_error_is_retried_once_then_unavailable(
        self, svc: ServiceClient, downstream: Downstream
    ) -> None:
        with pytest.raises(UnavailableError, match=r"^Downstream broke\.$"):
            await svc.get("/always-500", "tok")
        assert downstream.calls["always-500"] == 2

    async def test_a_server_error_then_success_returns_the_success(
        self, svc: ServiceClient, downstream: Downstream
    ) -> None:
        assert await svc.get("/flaky", "tok") == {"attempt": 2}
        assert downstream.calls["flaky"] == 2

    async def test_the_retry_answer_decides_the_error(self, svc: ServiceClient, downstream: Downstream) -> None:
        with pytest.raises(NotFoundError, match=r"^Gone for good\.$"):
            await svc.get("/flaky-404", "tok")
        assert downstream.calls["flaky-404"] == 2

    async def test_a_client_error_is_not_retried(self, svc: ServiceClient, downstream: Downstream) -> None:
        with pytest.raises(NotFoundError):
            await svc.get("/problem/404", "tok")
        with pytest.raises(NotFoundError):
            await svc.get("/flaky-404", "tok")
        assert downstream.calls["flaky-404"] == 2

    @pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ReadTimeout])
    async def test_a_transport_error_is_retried_once_then_unavailable(self, error: type[httpx.TransportError]) -> None:
        transport = FailingTransport(error)
        async with make_client(5, mounts={SERVICE_URL: transport}) as http:
            with pytest.raises(UnavailableError, match=r"^The svc service is not answering\.$") as raised:
                await ServiceClient(http, SERVICE_URL, "svc").get("/echo", "tok")
        assert transport.attempts == 2
        assert isinstance(raised.value.__cause__, error)


class TestServiceClientPost:
    async def test_the_body_is_sent_as_json_and_the_answer_returned(
        self, svc: ServiceClient, downstream: Downstream
    ) -> None:
        assert await svc.post("/echo", "tok", {"a": [1, 2]}) == {"a": [1, 2]}
        assert downstream.calls == {"post-echo": 1}

    async def test_a_server_error_is_not_retried(self, svc: ServiceClient, downstream: Downstream) -> None:
        with pytest.raises(UnavailableError, match=r"^Downstream broke\.$"):
            await svc.post("/always-500", "tok", {})
        assert downstream.calls["post-always-500"] == 1

    async def test_a_transport_error_is_not_retried(self) -> None:
        transport = FailingTransport(httpx.ConnectError)
        async with make_client(5, mounts={SERVICE_URL: transport}) as http:
            with pytest.raises(UnavailableError, match="not answering"):
                await ServiceClient(http, SERVICE_URL, "svc").post("/echo", "tok", {"a": 1})
        assert transport.attempts == 1


def caller_app(tmp_path: Path, downstream: Downstream) -> FastAPI:
    """An app whose route calls the downstream service on the caller's behalf."""
    settings = GatewaySettings(var_dir=tmp_path)
    app = create_base_app(
        settings,
        title="caller",
        description="Calls the downstream service.",
        mounts={SERVICE_URL: httpx.ASGITransport(app=downstream.app)},
    )

    @app.get("/relay/{path:path}")
    async def relay(path: str, request: Request, principal: CurrentPrincipal) -> Any:
        return await ServiceClient(request.app.state.http, SERVICE_URL, "svc").get(f"/{path}", principal.token)

    return app


class TestThroughAnApp:
    async def test_the_callers_token_and_request_id_reach_the_service(
        self, tmp_path: Path, downstream: Downstream
    ) -> None:
        app = caller_app(tmp_path, downstream)
        key = ensure_dev_signing_key(GatewaySettings(var_dir=tmp_path).signing_key_file)
        token = issue_token(key, issuer="plp-dev", audience="plp", tenant_id="t1", sub="u1")
        async with serve(app) as client:
            response = await client.get(
                "/relay/echo", headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-through"}
            )
        assert response.status_code == 200
        assert response.json()["authorization"] == f"Bearer {token}"
        assert response.json()["request_id"] == "req-through"

    async def test_a_downstream_problem_becomes_the_callers_problem(
        self, tmp_path: Path, downstream: Downstream
    ) -> None:
        app = caller_app(tmp_path, downstream)
        key = ensure_dev_signing_key(GatewaySettings(var_dir=tmp_path).signing_key_file)
        token = issue_token(key, issuer="plp-dev", audience="plp", tenant_id="t1", sub="u1")
        async with serve(app) as client:
            response = await client.get("/relay/problem/404", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404
        assert response.json()["detail"] == "Downstream says 404."
