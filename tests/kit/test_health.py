"""`kit.health`: `/healthz` for liveness, `/readyz` for a reachable, migrated database and other checks."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.migrate import head_revision, upgrade_on
from services.profile_service.app import create_app as create_profile
from services.profile_service.settings import ProfileSettings
from tests.conftest import Apps, Databases
from tests.kit.asgi import serve

APP_NAMES = ("profile", "pathway", "progress", "gateway")
SERVICE_NAMES = ("profile", "pathway", "progress")


@pytest.fixture
def empty_database(databases: Databases) -> Iterator[str]:
    """The URL of a fresh database without any table (its own per test), dropped afterwards."""
    name = f"plp_test_empty_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = databases.create(name)
    yield url
    databases.drop(name)


class TestHealthz:
    @pytest.mark.parametrize("name", APP_NAMES)
    async def test_every_app_is_live(self, apps: Apps, name: str) -> None:
        async with apps.client(name) as client:
            response = await client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_liveness_does_not_need_the_database(self, tmp_path: Path) -> None:
        settings = ProfileSettings(database_url=f"sqlite+aiosqlite:///{tmp_path}", var_dir=tmp_path)
        async with serve(create_profile(settings)) as client:
            assert (await client.get("/healthz")).status_code == 200


class TestReadyz:
    @pytest.mark.parametrize("name", SERVICE_NAMES)
    async def test_a_service_on_its_migrated_database_is_ready(self, apps: Apps, name: str) -> None:
        async with apps.client(name) as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}

    async def test_the_gateway_without_checks_is_ready(self, apps: Apps) -> None:
        async with apps.client("gateway") as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "checks": {}}

    async def test_an_unmigrated_database_is_not_ready_naming_migrations(
        self, empty_database: str, var_dir: Path
    ) -> None:
        settings = ProfileSettings(database_url=empty_database, var_dir=var_dir)
        async with serve(create_profile(settings)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["migrations"] == f"failed: database at None, code expects {head_revision('profile')}"

    async def test_a_database_at_another_revision_is_not_ready(self, empty_database: str, var_dir: Path) -> None:
        settings = ProfileSettings(database_url=empty_database, var_dir=var_dir)
        app = create_profile(settings)
        async with serve(app) as client:
            async with app.state.engine.begin() as conn:
                await conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
                await conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0123456789ab')"))
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"].startswith("failed: database at 0123456789ab, code expects")

    async def test_an_unmigrated_database_becomes_ready_once_upgraded(self, empty_database: str, var_dir: Path) -> None:
        app = create_profile(ProfileSettings(database_url=empty_database, var_dir=var_dir))
        async with serve(app) as client:
            assert (await client.get("/readyz")).status_code == 503
            async with app.state.engine.begin() as conn:
                await upgrade_on(conn, "profile")
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}

    async def test_an_unreachable_database_fails_both_checks(self, tmp_path: Path) -> None:
        directory_not_a_file = f"sqlite+aiosqlite:///{tmp_path}"
        settings = ProfileSettings(database_url=directory_not_a_file, var_dir=tmp_path)
        async with serve(create_profile(settings)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        checks = response.json()["checks"]
        assert checks["database"].startswith("failed: ")
        assert checks["migrations"].startswith("failed: ")


def app_with_checks(tmp_path: Path, healthy: bool) -> FastAPI:
    """A gateway-like app with one extra readiness check that passes or fails."""

    async def broker(_request: Request) -> None:
        if not healthy:
            raise ConnectionError("nats unreachable")

    async def cache(_request: Request) -> None:
        return None

    return create_base_app(
        GatewaySettings(var_dir=tmp_path),
        title="health-test",
        description="Extra readiness checks.",
        readiness={"broker": broker, "cache": cache},
    )


class TestExtraReadinessChecks:
    async def test_passing_checks_are_ready(self, tmp_path: Path) -> None:
        async with serve(app_with_checks(tmp_path, healthy=True)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ready", "checks": {"broker": "ok", "cache": "ok"}}

    async def test_a_failing_check_is_named_with_its_error(self, tmp_path: Path) -> None:
        async with serve(app_with_checks(tmp_path, healthy=False)) as client:
            response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "not_ready",
            "checks": {"broker": "failed: nats unreachable", "cache": "ok"},
        }

    async def test_a_service_runs_its_database_checks_before_its_own(
        self, tmp_path: Path, databases: Databases
    ) -> None:
        async def extra(_request: Request) -> None:
            return None

        settings = ProfileSettings(database_url=databases.urls["profile"], var_dir=tmp_path)
        app = create_base_app(settings, title="t", description="d", readiness={"extra": extra})
        async with serve(app) as client:
            response = await client.get("/readyz")
        assert response.status_code == 200
        assert list(response.json()["checks"]) == ["database", "migrations", "extra"]
