"""What the command line does to the services' databases: migrate them, load demo data."""

import asyncio

from sqlalchemy.ext.asyncio import AsyncEngine

from kit.db import create_engine, make_sessionmaker
from kit.migrate import current_revision, head_revision, upgrade
from kit.settings import ServiceSettings
from services.pathway_service.settings import PathwaySettings
from services.profile_service import demo as profile_demo
from services.profile_service.settings import ProfileSettings
from services.progress_service import demo as progress_demo
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
