"""The `Date` header: the apps write it themselves (uvicorn runs with `--no-date-header`), exactly once per response.

xAPI clients read the LRS's clock from `Date`; two of them (one from the server, one from the app)
would make it ambiguous, and none would leave it out. `kit.request_context` adds it to every answer.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from tests.conftest import Apps
from tests.kit.asgi import serve
from tests.statements import VERSION
from tests.tokens import TokenFactory

OWN_DATE = "Tue, 01 Jan 2030 00:00:00 GMT"
REQUESTS = [
    ("profile", "GET", "/healthz", 200),
    ("profile", "GET", "/no-such-page", 404),
    ("profile", "GET", "/authz/learners", 401),
    ("pathway", "GET", "/healthz", 200),
    ("progress", "GET", "/readyz", 200),
    ("progress", "GET", "/xapi/about", 200),
    ("progress", "POST", "/xapi/statements", 401),
    ("gateway", "GET", "/healthz", 200),
    ("gateway", "POST", "/graphql", 401),
]


def dates(response: httpx.Response) -> list[str]:
    """Every `Date` header of `response`."""
    return response.headers.get_list("date")


def assert_now(value: str) -> None:
    """`value` is an HTTP date (IMF-fixdate, GMT) within a minute of now."""
    assert value.endswith(" GMT")
    assert abs(parsedate_to_datetime(value) - datetime.now(UTC)) < timedelta(minutes=1)


def framed_app(tmp_path: Path) -> FastAPI:
    """A tiny app on the kit: a route that sets its own `Date`, and one that fails."""
    app = create_base_app(GatewaySettings(var_dir=tmp_path), title="date-test", description="Dates answers.")

    @app.get("/own-date")
    async def own_date() -> Response:
        return Response(b"{}", media_type="application/json", headers={"Date": OWN_DATE})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    return app


class TestDateHeader:
    @pytest.mark.parametrize(("app", "method", "path", "status"), REQUESTS)
    async def test_every_app_answer_has_exactly_one_current_date(
        self, apps: Apps, app: str, method: str, path: str, status: int
    ) -> None:
        async with apps.client(app) as client:
            response = await client.request(method, path, headers=VERSION)

        assert response.status_code == status, response.text
        (value,) = dates(response)
        assert_now(value)

    async def test_an_authenticated_answer_has_one_date(self, apps: Apps, tokens: TokenFactory) -> None:
        async with apps.client("profile") as client:
            response = await client.get("/authz/learners", headers=tokens.headers("admin", "admin"))

        assert response.status_code == 200, response.text
        assert len(dates(response)) == 1

    async def test_a_route_setting_its_own_date_keeps_it_alone(self, tmp_path: Path) -> None:
        async with serve(framed_app(tmp_path)) as client:
            response = await client.get("/own-date")

        assert dates(response) == [OWN_DATE]

    async def test_an_unexpected_error_has_one_date(self, tmp_path: Path) -> None:
        async with serve(framed_app(tmp_path), raise_app_exceptions=False) as client:
            response = await client.get("/boom")

        assert response.status_code == 500
        (value,) = dates(response)
        assert_now(value)
