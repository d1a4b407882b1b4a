"""Async database access for every service: one URL setting, SQLite or PostgreSQL.

Each service gets its own SQLAlchemy registry (so three services in one process never share
metadata), an engine configured for its dialect, and a session dependency that commits
*before* the response is sent.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Depends, Request
from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_registry() -> registry:
    """A fresh registry whose metadata names constraints by convention (stable migrations)."""
    return registry(metadata=MetaData(naming_convention=NAMING_CONVENTION))


JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")
BIGINT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_ZERO = timedelta(0)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _json_loads(value: str | bytes | float) -> Any:
    # SQLite hands back a JSON number as a number (its JSON columns have numeric affinity)
    return value if isinstance(value, int | float) else orjson.loads(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Refuse naive values; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Read back as aware UTC (SQLite hands back naive values)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() == _ZERO:  # cheaper than converting zone objects
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine for `url`: SQLite gets WAL and foreign keys, PostgreSQL a sized pool.

    JSON columns are read and written with orjson (several times faster than the standard library
    on large pages of rows).
    """
    parsed = make_url(url)
    json_options: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": _json_loads}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **json_options)
        event.listen(engine.sync_engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **json_options)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Request-scoped session from `app.state.sessionmaker`; commits when the handler succeeds.

    Declared with `scope="function"` (see `SessionDep`), so the commit happens before the
    response is sent and a failed commit becomes an error response, never a false 200.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        yield session
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def insert_if_absent(session: AsyncSession, model: type[SQLModel], values: dict[str, Any]) -> None:
    """Insert one row of `model` unless a row with the same key exists; safe when requests race."""
    connection = await session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    await connection.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())
