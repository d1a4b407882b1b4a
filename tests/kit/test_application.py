"""`kit.application`: the shared frame every app is built on, and what its lifespan owns."""

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.auth import TokenVerifier
from services.profile_service.settings import ProfileSettings
from tests.conftest import Databases
from tests.kit.asgi import serve


def echo_service() -> FastAPI:
    """A service the app's outgoing client can be mounted onto."""
    app = FastAPI()

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, str]:
        return {"host": request.headers["host"]}

    return app


class TestCreateBaseApp:
    def test_the_app_describes_itself(self, tmp_path: Path) -> None:
        app = create_base_app(GatewaySettings(var_dir=tmp_path), title="plp-x", description="Does x.")
        assert (app.title, app.description, app.version) == ("plp-x", "Does x.", "0.1.0")

    def test_an_app_without_a_database_gets_settings_identity_and_http(self, tmp_path: Path) -> None:
        settings = GatewaySettings(var_dir=tmp_path)
        app = create_base_app(settings, title="t", description="d")
        assert app.state.settings is settings
        assert isinstance(app.state.token_verifier, TokenVerifier)
        assert isinstance(app.state.http, httpx.AsyncClient)
        assert not hasattr(app.state, "engine")
        assert not hasattr(app.state, "sessionmaker")

    async def test_a_service_also_gets_its_engine_and_sessions(self, tmp_path: Path, databases: Databases) -> None:
        settings = ProfileSettings(database_url=databases.urls["profile"], var_dir=tmp_path, database_pool_size=3)
        app = create_base_app(settings, title="t", description="d")
        async with serve(app):
            assert isinstance(app.state.engine, AsyncEngine)
            assert app.state.engine.url.render_as_string(hide_password=False) == settings.resolved_database_url
            assert isinstance(app.state.sessionmaker, async_sessionmaker)
            assert app.state.sessionmaker.kw["bind"] is app.state.engine

    def test_identity_follows_the_settings(self, tmp_path: Path) -> None:
        app = create_base_app(
            GatewaySettings(var_dir=tmp_path, jwt_issuer="district", jwt_audience="plp-prod"),
            title="t",
            description="d",
        )
        verifier: TokenVerifier = app.state.token_verifier
        assert list(verifier.issuers) == ["district", "plp-clients"]
        assert verifier.audience == "plp-prod"
        assert (tmp_path / "keys" / "dev-signing-key.pem").is_file()

    async def test_the_outgoing_client_uses_the_mounts(self, tmp_path: Path) -> None:
        mounts = {"http://echo.test": httpx.ASGITransport(app=echo_service())}
        app = create_base_app(GatewaySettings(var_dir=tmp_path), title="t", description="d", mounts=mounts)
        async with serve(app):
            response = await app.state.http.get("http://echo.test/hello")
        assert response.json() == {"host": "echo.test"}

    async def test_the_outgoing_client_has_the_configured_timeout(self, tmp_path: Path) -> None:
        app = create_base_app(GatewaySettings(var_dir=tmp_path, http_timeout_seconds=1.5), title="t", description="d")
        async with serve(app):
            assert app.state.http.timeout == httpx.Timeout(1.5)

    async def test_the_lifespan_closes_the_outgoing_client(self, tmp_path: Path) -> None:
        app = create_base_app(GatewaySettings(var_dir=tmp_path), title="t", description="d")
        async with serve(app):
            assert not app.state.http.is_closed
        assert app.state.http.is_closed

    async def test_the_lifespan_disposes_the_engine(self, tmp_path: Path) -> None:
        settings = ProfileSettings(var_dir=tmp_path)
        app = create_base_app(settings, title="t", description="d")
        async with serve(app) as client:
            assert (await client.get("/readyz")).json()["checks"]["database"] == "ok"
            assert app.state.engine.pool.checkedin() == 1
        assert app.state.engine.pool.checkedin() == 0

    @pytest.mark.parametrize("path", ["/healthz", "/readyz"])
    async def test_health_routes_are_included_and_framed(self, tmp_path: Path, path: str) -> None:
        app = create_base_app(GatewaySettings(var_dir=tmp_path), title="t", description="d")
        async with serve(app) as client:
            response = await client.get(path, headers={"X-Request-ID": "health-1"})
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "health-1"
