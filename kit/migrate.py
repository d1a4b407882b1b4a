"""Alembic, one history per service, named sections in `migrations/alembic.ini`."""

import asyncio
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from alembic import command, context
from alembic.autogenerate.api import AutogenContext
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import BIGINT_ID, JSON_TYPE, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SERVICES = ("profile", "pathway", "progress")


def alembic_config(service: str, database_url: str) -> Config:
    """The Alembic config of `service`, pointed at `database_url`."""
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"), ini_section=service)
    config.set_main_option("script_location", str(MIGRATIONS_DIR / service))
    config.attributes["database_url"] = database_url
    return config


def head_revision(service: str) -> str | None:
    """The newest revision in the service's migration scripts."""
    config = alembic_config(service, "")
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the connected database is at."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(service: str, database_url: str) -> None:
    """Upgrade `service`'s database to head (blocking; runs its own event loop)."""
    command.upgrade(alembic_config(service, database_url), "head")


async def upgrade_on(connection: AsyncConnection, service: str) -> None:
    """Upgrade to head over an open async connection (for callers already inside a loop)."""

    def run(sync_connection: Connection) -> None:
        config = alembic_config(service, "")
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "head")

    await connection.run_sync(run)


def _same_type(a: sa.types.TypeEngine[Any], b: sa.types.TypeEngine[Any]) -> bool:
    """Equal types, dialect variants included (`repr` alone leaves the variants out)."""
    variants_a = {name: repr(t) for name, t in a._variant_mapping.items()}
    variants_b = {name: repr(t) for name, t in b._variant_mapping.items()}
    return type(a) is type(b) and repr(a) == repr(b) and variants_a == variants_b


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the kit's shared column types by name in generated migrations."""
    if type_ == "type":
        for name, shared in (("JSON_TYPE", JSON_TYPE), ("BIGINT_ID", BIGINT_ID)):
            if _same_type(obj, shared):
                return f"kit.db.{name}"
        if type(obj).__name__ == "UtcDateTime":
            return "kit.db.UtcDateTime()"
    return False


def _configure_and_run(connection: Connection, target_metadata: sa.MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_env(target_metadata: sa.MetaData, default_url: str) -> None:
    """The body of every service's `env.py`: online migrations over an async engine."""
    config = context.config
    connection: Any = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, target_metadata)
        return
    url = config.attributes.get("database_url") or default_url

    async def run_async() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run, target_metadata)
        await engine.dispose()

    asyncio.run(run_async())
