"""`kit.errors` and the request frame: every failure of an app renders as RFC 9457 problem+json."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.errors import (
    PROBLEM_JSON,
    AppError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
    UnavailableError,
)
from kit.pagination import OffsetPageDep
from tests.kit.asgi import serve


class QuotaExceededError(AppError):
    """An app-specific failure with its own status, code and title."""

    status, code, title = 429, "quota_exceeded", "Quota exceeded"


class NewLearner(BaseModel):
    """A request body with one required field."""

    name: str
    grade: int


def failing_app(tmp_path: Path) -> FastAPI:
    """A tiny app with a route per kind of failure."""
    app = create_base_app(GatewaySettings(var_dir=tmp_path), title="errors-test", description="Fails on purpose.")

    @app.get("/quota")
    async def quota() -> None:
        raise QuotaExceededError("You have used 100 of 100 requests.", limit=100, retry_after=60)

    @app.get("/plain/{kind}")
    async def plain(kind: str) -> None:
        errors: dict[str, type[AppError]] = {
            "bad": BadRequestError,
            "unauthorized": UnauthorizedError,
            "forbidden": ForbiddenError,
            "missing": NotFoundError,
            "conflict": ConflictError,
            "unavailable": UnavailableError,
        }
        raise errors[kind]()

    @app.get("/items")
    async def items(page: OffsetPageDep) -> dict[str, int]:
        return {"limit": page.limit, "offset": page.offset}

    @app.post("/learners")
    async def create_learner(learner: NewLearner) -> NewLearner:
        return learner

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/conflict-with-status")
    async def conflict_with_status() -> None:
        raise ConflictError("The enrollment is archived.", status="archived")

    @app.get("/bad-with-type")
    async def bad_with_type() -> None:
        raise BadRequestError("Unknown org type.", type="campus")

    @app.get("/slow-down")
    async def slow_down() -> None:
        raise HTTPException(429, "Too many requests", headers={"Retry-After": "60"})

    @app.get("/echo-ok")
    async def echo_ok() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the failing app; unexpected errors come back as responses, not exceptions."""
    async with serve(failing_app(tmp_path), raise_app_exceptions=False) as client:
        yield client


class TestAppErrorRendering:
    async def test_a_subclass_renders_its_status_code_title_detail_and_extras(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/quota")
        assert response.status_code == 429
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        assert body == {
            "type": "https://plp.dev/problems/quota_exceeded",
            "title": "Quota exceeded",
            "status": 429,
            "detail": "You have used 100 of 100 requests.",
            "code": "quota_exceeded",
            "request_id": response.headers["x-request-id"],
            "limit": 100,
            "retry_after": 60,
        }

    @pytest.mark.parametrize(
        ("kind", "status", "code", "title"),
        [
            ("bad", 400, "bad_request", "Bad request"),
            ("unauthorized", 401, "unauthorized", "Unauthorized"),
            ("forbidden", 403, "forbidden", "Forbidden"),
            ("missing", 404, "not_found", "Not found"),
            ("conflict", 409, "conflict", "Conflict"),
            ("unavailable", 503, "unavailable", "Service unavailable"),
        ],
    )
    async def test_each_kit_error_has_its_status_and_code_and_defaults_detail_to_title(
        self, client: httpx.AsyncClient, kind: str, status: int, code: str, title: str
    ) -> None:
        response = await client.get(f"/plain/{kind}")
        assert response.status_code == status
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        assert (body["status"], body["code"], body["title"], body["detail"]) == (status, code, title, title)
        assert body["type"] == f"https://plp.dev/problems/{code}"

    async def test_only_a_401_asks_for_a_bearer_token(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/plain/unauthorized")).headers["www-authenticate"] == "Bearer"
        assert "www-authenticate" not in (await client.get("/plain/forbidden")).headers

    async def test_an_extra_named_like_a_member_still_renders_the_error(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/conflict-with-status")
        assert response.status_code == 409
        assert response.json()["detail"] == "The enrollment is archived."

    async def test_an_extra_cannot_overwrite_the_problem_type(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/bad-with-type")
        assert response.status_code == 400
        assert response.json()["type"] == "https://plp.dev/problems/bad_request"


class TestAppError:
    def test_the_detail_is_the_message_and_extras_are_kept(self) -> None:
        error = NotFoundError("No learner l-9.", learner_id="l-9")
        assert str(error) == "No learner l-9."
        assert error.detail == "No learner l-9."
        assert error.extra == {"learner_id": "l-9"}

    def test_without_a_detail_the_title_is_used(self) -> None:
        error = ConflictError()
        assert str(error) == "Conflict"
        assert error.detail == "Conflict"


class TestValidationErrors:
    async def test_a_bad_query_parameter_is_422_naming_the_field(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/items", params={"limit": 0})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        assert body["code"] == "validation_error"
        assert body["title"] == "Invalid request"
        assert [e["field"] for e in body["errors"]] == ["limit"]
        assert body["errors"][0]["message"]
        assert body["detail"] == "Invalid fields: limit"

    async def test_every_bad_field_is_listed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/items", params={"limit": "many", "offset": -1})
        assert response.status_code == 422
        assert sorted(e["field"] for e in response.json()["errors"]) == ["limit", "offset"]

    async def test_a_body_field_is_named_without_the_body_prefix(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/learners", json={"grade": 3})
        assert response.status_code == 422
        errors = response.json()["errors"]
        assert errors == [{"field": "name", "message": "Field required"}]

    async def test_a_missing_body_is_named_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/learners")
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["body"]

    async def test_a_body_that_is_not_json_is_named_body_with_the_parse_error(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/learners", content=b'{"name": ', headers={"content-type": "application/json"})
        assert response.status_code == 422
        [error] = response.json()["errors"]
        assert error["field"] == "body"
        assert error["message"].startswith("JSON decode error: ")

    async def test_valid_input_passes(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/learners", json={"name": "Ada", "grade": 3})
        assert response.status_code == 200
        assert response.json() == {"name": "Ada", "grade": 3}


class TestHttpErrors:
    async def test_an_unknown_route_is_a_404_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/nowhere")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "http_404"

    async def test_a_wrong_method_is_a_405_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/items")
        assert response.status_code == 405
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.json()["code"] == "http_405"

    async def test_a_405_names_the_allowed_methods(self, client: httpx.AsyncClient) -> None:
        response = await client.delete("/items")
        assert response.headers["allow"] == "GET"

    async def test_the_headers_of_an_http_exception_are_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/slow-down")
        assert response.status_code == 429
        assert response.headers["content-type"] == PROBLEM_JSON
        assert response.headers["retry-after"] == "60"


class TestUnexpectedErrors:
    async def test_an_unexpected_exception_is_a_500_problem(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/boom")
        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM_JSON
        body = response.json()
        assert body["code"] == "internal_error"
        assert body["detail"] == "An unexpected error occurred."
        assert body["request_id"] == response.headers["x-request-id"]

    async def test_the_exception_message_does_not_leak(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/boom")
        assert "hunter2" not in response.text
        assert "RuntimeError" not in response.text


class TestRequestId:
    async def test_an_incoming_request_id_is_echoed(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/echo-ok", headers={"X-Request-ID": "req-from-upstream-42"})
        assert response.headers["x-request-id"] == "req-from-upstream-42"

    async def test_an_incoming_request_id_is_carried_by_problems(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/quota", headers={"X-Request-ID": "req-7"})
        assert response.headers["x-request-id"] == "req-7"
        assert response.json()["request_id"] == "req-7"

    async def test_a_500_carries_the_incoming_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/boom", headers={"X-Request-ID": "req-8"})
        assert response.headers["x-request-id"] == "req-8"
        assert response.json()["request_id"] == "req-8"

    async def test_a_missing_request_id_is_generated(self, client: httpx.AsyncClient) -> None:
        first = (await client.get("/echo-ok")).headers["x-request-id"]
        second = (await client.get("/echo-ok")).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", first)
        assert re.fullmatch(r"[0-9a-f]{32}", second)
        assert first != second

    async def test_an_overlong_request_id_is_replaced(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/echo-ok", headers={"X-Request-ID": "x" * 129})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])

    async def test_a_request_id_of_the_maximum_length_is_kept(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/echo-ok", headers={"X-Request-ID": "x" * 128})
        assert response.headers["x-request-id"] == "x" * 128

    async def test_the_response_has_exactly_one_request_id(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/quota", headers={"X-Request-ID": "req-9"})
        assert response.headers.get_list("x-request-id") == ["req-9"]
