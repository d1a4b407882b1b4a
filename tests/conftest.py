"""Fixtures shared by every test: databases (SQLite, or PostgreSQL when `PLP_TEST_DATABASE_URL`
is set), the four real apps wired to each other in process, tokens, and a small roster."""

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from kit.auth import issue_token
from kit.learner_access import LearnerAccess
from kit.migrate import upgrade
from kit.settings import ServiceSettings
from services.pathway_service.app import create_app as create_pathway
from services.pathway_service.db import metadata as pathway_metadata
from services.pathway_service.settings import PathwaySettings
from services.profile_service.app import create_app as create_profile
from services.profile_service.db import metadata as profile_metadata
from services.profile_service.settings import ProfileSettings
from services.progress_service.app import create_app as create_progress
from services.progress_service.db import metadata as progress_metadata
from services.progress_service.settings import ProgressSettings
from tests.tokens import TokenFactory

SERVICES = ("profile", "pathway", "progress")
METADATA = {"profile": profile_metadata, "pathway": pathway_metadata, "progress": progress_metadata}
URLS = {name: f"http://{name}.test" for name in (*SERVICES, "gateway")}
PG_ADMIN_URL = os.environ.get("PLP_TEST_DATABASE_URL")


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as psycopg's connection string."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Databases:
    """Where each service's test database lives."""

    urls: dict[str, str]
    admin_url: str | None

    def create(self, name: str) -> str:
        """A further empty database (PostgreSQL) or file (SQLite), for tests that need a fresh one."""
        if self.admin_url is None:
            path = Path(make_url(self.urls["profile"]).database or "").parent / f"{name}.db"
            for leftover in (path, path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm")):
                leftover.unlink(missing_ok=True)
            return f"sqlite+aiosqlite:///{path}"
        with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        """Remove a database made by `create` (PostgreSQL only; SQLite files go with the tmp dir)."""
        if self.admin_url is not None:
            with psycopg.connect(libpq_url(self.admin_url), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `var/` of the test session (signing key, SQLite files)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def databases(var_dir: Path) -> Iterator[Databases]:
    """One migrated database per service for the whole session."""
    dbs = Databases(urls={}, admin_url=PG_ADMIN_URL)
    names = {service: f"plp_test_{os.getpid()}_{service}" for service in SERVICES}
    for service, name in names.items():
        dbs.urls[service] = dbs.create(name) if PG_ADMIN_URL else f"sqlite+aiosqlite:///{var_dir / service}.db"
        upgrade(service, dbs.urls[service])
    yield dbs
    for name in names.values():
        dbs.drop(name)


@pytest.fixture(scope="session")
def tokens(var_dir: Path) -> TokenFactory:
    """Signs test tokens with the session's development key."""
    return TokenFactory(var_dir)


@pytest.fixture(params=["no_token", "garbage_token", "expired_token", "foreign_signature"])
def unauthenticated(request: pytest.FixtureRequest, tokens: TokenFactory) -> dict[str, str]:
    """Headers of a caller the apps must not recognise (an admin's claims, where there are claims)."""
    kind: str = request.param
    if kind == "no_token":
        return {}
    if kind == "garbage_token":
        return {"Authorization": "Bearer not-a-jwt"}
    if kind == "expired_token":
        return {"Authorization": f"Bearer {tokens.token('admin', 'admin', ttl_seconds=-120)}"}
    forged = issue_token(
        Ed25519PrivateKey.generate(), issuer="plp-dev", audience="plp", tenant_id="t1", sub="admin", roles=("admin",)
    )
    return {"Authorization": f"Bearer {forged}"}


@dataclass
class Apps:
    """The four real apps, wired to each other over in-process ASGI transports."""

    profile: FastAPI
    pathway: FastAPI
    progress: FastAPI
    gateway: FastAPI

    def client(self, name: str) -> httpx.AsyncClient:
        """An HTTP client for one app."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=getattr(self, name)), base_url=URLS[name])


def service_links(var_dir: Path) -> dict[str, Any]:
    """Settings every app shares in tests: the var dir and where the other apps are."""
    return {
        "var_dir": var_dir,
        "profile_url": URLS["profile"],
        "pathway_url": URLS["pathway"],
        "progress_url": URLS["progress"],
    }


@pytest.fixture(scope="session")
async def apps(databases: Databases, var_dir: Path) -> AsyncIterator[Apps]:
    """Start the four apps (with their lifespans) once per session."""
    links = service_links(var_dir)
    profile = create_profile(ProfileSettings(database_url=databases.urls["profile"], **links))
    mounts: dict[str, httpx.AsyncBaseTransport] = {URLS["profile"]: httpx.ASGITransport(app=profile)}
    progress = create_progress(ProgressSettings(database_url=databases.urls["progress"], **links), mounts)
    mounts[URLS["progress"]] = httpx.ASGITransport(app=progress)
    pathway = create_pathway(PathwaySettings(database_url=databases.urls["pathway"], **links), mounts)
    mounts[URLS["pathway"]] = httpx.ASGITransport(app=pathway)
    gateway = create_gateway(GatewaySettings(**links), mounts)
    async with AsyncExitStack() as stack:
        for app in (profile, progress, pathway, gateway):
            await stack.enter_async_context(app.router.lifespan_context(app))
        yield Apps(profile=profile, pathway=pathway, progress=progress, gateway=gateway)


@pytest.fixture(autouse=True)
async def _reset_apps(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test that used the apps: empty every service table and forget cached access answers."""
    yield
    if "apps" not in request.fixturenames:
        return
    apps: Apps = request.getfixturevalue("apps")
    for app in (apps.progress, apps.pathway):
        access: LearnerAccess = app.state.learner_access
        access.forget()
    for service in SERVICES:
        engine = getattr(apps, service).state.engine
        tables = list(reversed(METADATA[service].sorted_tables))
        async with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                names = ", ".join(f'"{t.name}"' for t in tables)
                await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    await conn.execute(table.delete())


@pytest.fixture
async def profile(apps: Apps) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the profile service."""
    async with apps.client("profile") as client:
        yield client


@pytest.fixture
async def progress(apps: Apps) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the progress service."""
    async with apps.client("progress") as client:
        yield client


@pytest.fixture
async def pathway(apps: Apps) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the pathway service."""
    async with apps.client("pathway") as client:
        yield client


@pytest.fixture
async def gateway(apps: Apps) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the gateway."""
    async with apps.client("gateway") as client:
        yield client


def settings_for(service: str, url: str, var_dir: Path) -> ServiceSettings:
    """Settings of one service pointed at `url`."""
    kinds: dict[str, type[ServiceSettings]] = {
        "profile": ProfileSettings,
        "pathway": PathwaySettings,
        "progress": ProgressSettings,
    }
    return kinds[service](database_url=url, var_dir=var_dir)
