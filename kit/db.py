"""Async database access for every service: one URL setting, SQLite or PostgreSQL.

Each service gets its own SQLAlchemy registry (so three services in one process never share
metadata), an engine configured for its dialect, and a session dependency that commits
*before* the response is sent.
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Depends, Request
from psycopg import sql as pg_sql
from psycopg.types.json import set_json_dumps, set_json_loads
from sqlalchemy import MetaData, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as SaAsyncSession
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


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of a SQLModel table class."""
    table: sa.Table = model.__table__
    return table


JSON_TYPE = sa.JSON().with_variant(JSONB(), "postgresql")
JSON_TEXT_TYPE = sa.JSON()
"""JSON kept as text on PostgreSQL too (`json`): cheaper to write than JSONB, for documents never queried inside."""
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
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, **json_options)
    event.listen(engine.sync_engine, "connect", _use_orjson_in_psycopg)
    return engine


def _use_orjson_in_psycopg(dbapi_connection: Any, _record: Any) -> None:
    """JSON that bypasses SQLAlchemy's types (`COPY`, raw SQL) is (de)serialized with orjson too."""
    driver = dbapi_connection.driver_connection
    set_json_dumps(orjson.dumps, driver)
    set_json_loads(orjson.loads, driver)


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


def insert_for(connection: AsyncConnection, table: sa.Table | type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in the connection's dialect, so that `on_conflict_do_*` is available."""
    return postgresql.insert(table) if connection.dialect.name == "postgresql" else sqlite.insert(table)


async def insert_if_absent(session: AsyncSession, model: type[SQLModel], values: dict[str, Any]) -> None:
    """Insert one row of `model` unless a row with the same key exists; safe when requests race."""
    connection = await session.connection()
    await connection.execute(insert_for(connection, model).values(**values).on_conflict_do_nothing())


_POSTGRESQL: sa.Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]  # only to ask what a type is there


def _is_json_text(column: sa.ColumnElement[Any]) -> bool:
    """Whether the column is JSON kept as `json` text on PostgreSQL (`COPY` sends it the serialized text)."""
    return isinstance(column.type, sa.JSON) and not isinstance(column.type.dialect_impl(_POSTGRESQL), JSONB)


def _copy_type(column: sa.ColumnElement[Any]) -> str:
    """The PostgreSQL type `COPY` dumps a column's Python values as."""
    kind = column.type
    kind = getattr(kind, "impl", kind)  # a TypeDecorator stores as its `impl`
    if isinstance(kind, sa.JSON):
        return "text" if _is_json_text(column) else "jsonb"
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, sa.DateTime):
        return "timestamptz"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.Integer):
        return "int8"
    if isinstance(kind, sa.Float):
        return "float8"
    if isinstance(kind, sa.LargeBinary):
        return "bytea"
    return "text"


COPY_AT = 10
"""From this many rows on, writing with `copy_rows` beats `INSERT` on PostgreSQL."""


async def copy_rows(
    connection: AsyncConnection,
    table: sa.Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    into: str | None = None,
) -> None:
    """`COPY` `rows` (values in `columns` order) into `table`, or into the table named `into` shaped like it.

    PostgreSQL only: many times faster than `INSERT` for thousands of rows.
    """
    statement = pg_sql.SQL("COPY {} ({}) FROM STDIN").format(
        pg_sql.Identifier(into or table.name),
        pg_sql.SQL(", ").join(pg_sql.Identifier(table.c[c].name) for c in columns),
    )
    as_text = [i for i, c in enumerate(columns) if _is_json_text(table.c[c])]
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None
    async with driver.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types([_copy_type(table.c[c]) for c in columns])
        for row in rows:
            if as_text:
                row = list(row)
                for i in as_text:
                    row[i] = _json_dumps(row[i])
            await copy.write_row(row)


async def insert_rows(session: AsyncSession | SaAsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts keyed by column name) into `table`: `COPY` on PostgreSQL for big batches, else `INSERT`."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_AT:
        columns = list(rows[0])
        await copy_rows(connection, table, columns, ([row[c] for c in columns] for row in rows))
        return
    await connection.execute(sa.insert(table), list(rows))
