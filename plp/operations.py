"""What the command line does to the services' databases: migrate, load the demo, manage API clients, import rosters."""

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import create_engine, make_sessionmaker
from kit.migrate import current_revision, head_revision, upgrade
from kit.settings import ServiceSettings
from services.pathway_service.settings import PathwaySettings
from services.profile_service import api_clients, roster_import
from services.profile_service import demo as profile_demo
from services.profile_service.models import ApiClient, ImportJob, Tenant
from services.profile_service.settings import ProfileSettings
from services.progress_service import demo as progress_demo
from services.progress_service import mastery_fit
from services.progress_service.settings import ProgressSettings


def service_settings() -> list[ServiceSettings]:
    """Each service's settings, read from the environment."""
    return [ProfileSettings(), PathwaySettings(), ProgressSettings()]


def migrate_all() -> dict[str, str]:
    """Upgrade every service's database to head; returns the URL each one used."""
    done = {}
    for settings in service_settings():
        url = settings.resolved_database_url
        upgrade(settings.service_name, url)
        done[settings.service_name] = url
    return done


class NotMigratedError(Exception):
    """A service's database is not at the newest migration."""


async def _check_at_head(engine: AsyncEngine, service: str) -> None:
    async with engine.connect() as connection:
        current = await connection.run_sync(current_revision)
    if current != head_revision(service):
        raise NotMigratedError(
            f"The {service} database is at {current or 'no revision'}, not at head: run `plp migrate` first."
        )


async def _seed_demo() -> dict[str, int]:
    counts: dict[str, int] = {}
    profile_engine = create_engine(ProfileSettings().resolved_database_url)
    progress_engine = create_engine(ProgressSettings().resolved_database_url)
    try:
        await _check_at_head(profile_engine, "profile")
        await _check_at_head(progress_engine, "progress")
        async with make_sessionmaker(profile_engine)() as session, session.begin():
            counts.update(await profile_demo.seed_demo(session))
        async with make_sessionmaker(progress_engine)() as session, session.begin():
            counts["statement"] = await progress_demo.seed_demo(session)
    finally:
        await profile_engine.dispose()
        await progress_engine.dispose()
    return counts


def seed_demo() -> dict[str, int]:
    """Load the demo district (tenant `demo`) where it is missing; returns rows added per table.

    Raises `NotMigratedError`, writing nothing, when a database is not at head.
    """
    return asyncio.run(_seed_demo())


@asynccontextmanager
async def _profile_session() -> AsyncIterator[AsyncSession]:
    """A transaction on the profile database (committed on success), once it is known to be at head."""
    engine = create_engine(ProfileSettings().resolved_database_url)
    try:
        await _check_at_head(engine, "profile")
        async with make_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class CreatedClient:
    """A newly registered API client, with the secret shown this once."""

    client_id: str
    client_secret: str
    tenant_id: str
    scopes: list[str]
    tenant_created: bool


async def _create_client(tenant_id: str, scopes: list[str], name: str | None) -> CreatedClient:
    api_clients.check_tenant_id(tenant_id)
    async with _profile_session() as session:
        tenant_created = await session.get(Tenant, tenant_id) is None
        client, secret = await api_clients.create_client(session, tenant_id, scopes, name)
    return CreatedClient(client.client_id, secret, client.tenant_id, client.scopes, tenant_created)


def create_client(tenant_id: str, scopes: Iterable[str], name: str | None = None) -> CreatedClient:
    """Register an API client of `tenant_id`, creating the tenant if it is new.

    Raises `kit.errors.BadRequestError` (bad tenant id, unknown or no scope) or `NotMigratedError`,
    writing nothing.
    """
    return asyncio.run(_create_client(tenant_id, list(scopes), name))


def client_summary(client: ApiClient) -> dict[str, Any]:
    """What may be shown of a client: everything but its secret's hash."""
    return {
        "client_id": client.client_id,
        "tenant": client.tenant_id,
        "name": client.name,
        "scopes": client.scopes,
        "created_at": client.created_at.isoformat(),
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


async def _list_clients(tenant_id: str) -> list[dict[str, Any]]:
    async with _profile_session() as session:
        return [client_summary(client) for client in await api_clients.list_clients(session, tenant_id)]


def list_clients(tenant_id: str) -> list[dict[str, Any]]:
    """The API clients of `tenant_id`, revoked ones included, without their secrets."""
    return asyncio.run(_list_clients(tenant_id))


async def _revoke_client(client_id: str) -> dict[str, Any]:
    async with _profile_session() as session:
        return client_summary(await api_clients.revoke_client(session, client_id))


def revoke_client(client_id: str) -> dict[str, Any]:
    """Revoke an API client (it gets no new tokens); raises `kit.errors.NotFoundError` if unknown."""
    return asyncio.run(_revoke_client(client_id))


async def _import_roster(
    path: Path, tenant_id: str, on_progress: roster_import.ProgressCallback | None, database_url: str | None
) -> ImportJob:
    api_clients.check_tenant_id(tenant_id)
    engine = create_engine(database_url or ProfileSettings().resolved_database_url)
    try:
        await _check_at_head(engine, "profile")
        sessionmaker = make_sessionmaker(engine)
        async with sessionmaker() as session, session.begin():
            job = await roster_import.start_import(
                session, tenant_id, path, filename=path.name, created_by="plp roster import"
            )
            await api_clients.ensure_tenant(session, tenant_id)
        return await roster_import.run_import(sessionmaker, job.id, path, on_progress)
    finally:
        await engine.dispose()


def import_roster(
    path: Path,
    tenant_id: str,
    on_progress: roster_import.ProgressCallback | None = None,
    database_url: str | None = None,
) -> ImportJob:
    """Import a OneRoster CSV zip into `tenant_id` (created if new) as a tracked job; returns the finished job.

    Raises, writing nothing: `RosterFileError` (not a OneRoster zip), `NotMigratedError`, and
    `kit.errors.BadRequestError` (bad tenant id). Row errors and crashes are in the returned job.
    """
    return asyncio.run(_import_roster(path, tenant_id, on_progress, database_url))


async def _fit_mastery(tenant_id: str, database_url: str | None) -> mastery_fit.FitSummary:
    engine = create_engine(database_url or ProgressSettings().resolved_database_url)
    try:
        await _check_at_head(engine, "progress")
        async with make_sessionmaker(engine)() as session, session.begin():
            return await mastery_fit.fit_tenant(session, tenant_id)
    finally:
        await engine.dispose()


def fit_mastery(tenant_id: str, database_url: str | None = None) -> mastery_fit.FitSummary:
    """Fit the tenant's mastery model on its stored evidence and keep the parameters; raises `NotMigratedError`."""
    return asyncio.run(_fit_mastery(tenant_id, database_url))
