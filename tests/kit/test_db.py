"""`kit.db`: registries, shared column types, engines, and the session that commits before the response."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.schema import CreateIndex, CreateTable

from kit.application import create_base_app
from kit.db import (
    BIGINT_ID,
    JSON_TYPE,
    NAMING_CONVENTION,
    SessionDep,
    UtcDateTime,
    create_engine,
    make_registry,
    make_sessionmaker,
)
from kit.errors import ConflictError
from services.profile_service.models import Org
from services.profile_service.settings import ProfileSettings
from tests.conftest import Apps, Databases
from tests.kit.asgi import serve

BERLIN_SUMMER = timezone(timedelta(hours=2))
POSTGRESQL = sa.create_engine("postgresql+psycopg://").dialect
"""The PostgreSQL dialect, for compiling (the engine never connects)."""


def org(tenant: str, sourced_id: str, name: str = "School", parent: str | None = None) -> Org:
    """An org row of `tenant`."""
    return Org(tenant_id=tenant, sourced_id=sourced_id, name=name, type="school", parent_sourced_id=parent)


async def stored_orgs(engine: AsyncEngine, tenant: str) -> dict[str, str]:
    """sourced_id -> name of the orgs stored for `tenant`."""
    table = Org.__table__  # type: ignore[attr-defined]
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(table.c.sourced_id, table.c.name).where(table.c.tenant_id == tenant))
        return {r.sourced_id: r.name for r in rows}


class TestMakeRegistry:
    def test_the_metadata_uses_the_naming_convention(self) -> None:
        assert make_registry().metadata.naming_convention == NAMING_CONVENTION

    def test_each_registry_has_its_own_metadata(self) -> None:
        first, second = make_registry(), make_registry()
        sa.Table("only_in_first", first.metadata, sa.Column("id", sa.Integer, primary_key=True))
        assert first.metadata is not second.metadata
        assert "only_in_first" not in second.metadata.tables

    def test_constraints_and_indexes_are_named_by_convention(self) -> None:
        metadata = make_registry().metadata
        widget = sa.Table(
            "widget",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("code", sa.String(5), unique=True),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("widget.id")),
            sa.Column("size", sa.Integer, index=True),
            sa.CheckConstraint("size > 0", name="positive_size"),
        )
        ddl = str(CreateTable(widget).compile(dialect=sqlite.dialect()))
        assert "CONSTRAINT pk_widget PRIMARY KEY" in ddl
        assert "CONSTRAINT uq_widget_code UNIQUE" in ddl
        assert "CONSTRAINT fk_widget_parent_id_widget FOREIGN KEY" in ddl
        assert "CONSTRAINT ck_widget_positive_size CHECK" in ddl
        (index,) = widget.indexes
        assert "CREATE INDEX ix_widget_size" in str(CreateIndex(index).compile(dialect=sqlite.dialect()))


class TestSharedColumnTypes:
    def test_bigint_ids_are_integer_on_sqlite_for_autoincrement(self) -> None:
        assert BIGINT_ID.compile(dialect=sqlite.dialect()) == "INTEGER"
        assert BIGINT_ID.compile(dialect=POSTGRESQL) == "BIGINT"

    def test_json_is_jsonb_on_postgresql(self) -> None:
        assert JSON_TYPE.compile(dialect=POSTGRESQL) == "JSONB"
        assert JSON_TYPE.compile(dialect=sqlite.dialect()) == "JSON"


class TestUtcDateTime:
    def test_binding_converts_to_utc(self) -> None:
        bound = UtcDateTime().process_bind_param(datetime(2024, 6, 1, 14, 0, tzinfo=BERLIN_SUMMER), sqlite.dialect())
        assert bound == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        assert bound is not None
        assert bound.utcoffset() == timedelta(0)

    def test_binding_a_naive_value_is_refused(self) -> None:
        with pytest.raises(ValueError, match="naive datetime"):
            UtcDateTime().process_bind_param(datetime(2024, 6, 1, 12, 0), sqlite.dialect())

    def test_none_passes_both_ways(self) -> None:
        assert UtcDateTime().process_bind_param(None, sqlite.dialect()) is None
        assert UtcDateTime().process_result_value(None, sqlite.dialect()) is None

    def test_a_naive_result_is_read_as_utc(self) -> None:
        value = UtcDateTime().process_result_value(datetime(2024, 6, 1, 12, 0), sqlite.dialect())
        assert value == datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
        assert value is not None
        assert value.tzinfo is UTC

    def test_an_aware_result_is_converted_to_utc(self) -> None:
        value = UtcDateTime().process_result_value(datetime(2024, 6, 1, 14, 0, tzinfo=BERLIN_SUMMER), POSTGRESQL)
        assert value is not None
        assert (value, value.tzinfo) == (datetime(2024, 6, 1, 12, 0, tzinfo=UTC), UTC)

    async def test_an_aware_value_round_trips_as_utc_on_the_test_backend(self, apps: Apps) -> None:
        written = datetime(2024, 6, 1, 14, 30, 15, 123000, tzinfo=BERLIN_SUMMER)
        sessionmaker = apps.profile.state.sessionmaker
        async with sessionmaker() as session:
            row = org("kit-db-utc", "s1")
            row.date_last_modified = written
            session.add(row)
            await session.commit()
        async with sessionmaker() as session:
            read = await session.get(Org, ("kit-db-utc", "s1"))
        assert read is not None
        assert read.date_last_modified == written
        assert read.date_last_modified.tzinfo is UTC
        assert read.date_last_modified.hour == 12

    async def test_a_naive_value_is_refused_on_the_test_backend(self, apps: Apps) -> None:
        async with apps.profile.state.sessionmaker() as session:
            row = org("kit-db-naive", "s1")
            row.date_last_modified = datetime(2024, 6, 1, 12, 0)
            session.add(row)
            with pytest.raises(sa.exc.StatementError, match="naive datetime"):
                await session.flush()
        assert await stored_orgs(apps.profile.state.engine, "kit-db-naive") == {}

    async def test_a_value_round_trips_in_a_fresh_sqlite_table(self, tmp_path: Path) -> None:
        metadata = make_registry().metadata
        table = sa.Table(
            "stamp", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", UtcDateTime())
        )
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'stamps.db'}")
        written = datetime(2024, 1, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.execute(table.insert(), [{"id": 1, "at": written}, {"id": 2, "at": None}])
        async with engine.connect() as conn:
            values = dict((await conn.execute(sa.select(table.c.id, table.c.at))).tuples().all())
        await engine.dispose()
        assert values == {1: datetime(2024, 2, 1, 4, 59, 59, 999999, tzinfo=UTC), 2: None}
        assert values[1] is not None
        assert values[1].tzinfo is UTC


class TestCreateEngine:
    async def test_sqlite_connections_enforce_foreign_keys_and_use_wal(self, tmp_path: Path) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
        async with engine.connect() as conn:
            foreign_keys = (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar_one()
            journal_mode = (await conn.execute(sa.text("PRAGMA journal_mode"))).scalar_one()
            busy_timeout = (await conn.execute(sa.text("PRAGMA busy_timeout"))).scalar_one()
        await engine.dispose()
        assert foreign_keys == 1
        assert journal_mode == "wal"
        assert busy_timeout == 5000

    async def test_sqlite_refuses_a_row_whose_parent_is_missing(self, tmp_path: Path) -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fk.db'}")
        metadata = make_registry().metadata
        sa.Table("parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
        child = sa.Table(
            "child",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("parent_id", sa.Integer, sa.ForeignKey("parent.id")),
        )
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        with pytest.raises(sa.exc.IntegrityError, match="FOREIGN KEY"):
            async with engine.begin() as conn:
                await conn.execute(child.insert().values(id=1, parent_id=42))
        await engine.dispose()

    async def test_the_sqlite_files_directory_is_created(self, tmp_path: Path) -> None:
        path = tmp_path / "not" / "yet" / "there.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        assert path.parent.is_dir()
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        await engine.dispose()
        assert path.is_file()

    async def test_an_in_memory_sqlite_database_works(self) -> None:
        engine = create_engine("sqlite+aiosqlite:///:memory:")
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("PRAGMA foreign_keys"))).scalar_one() == 1
        await engine.dispose()

    async def test_postgresql_gets_a_sized_pool(self) -> None:
        engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/never", pool_size=3)
        pool = engine.sync_engine.pool
        assert isinstance(pool, sa.pool.QueuePool)
        assert pool.size() == 3
        assert pool._pre_ping is True
        await engine.dispose()


class TestMakeSessionmaker:
    async def test_loaded_objects_stay_usable_after_commit(self, apps: Apps) -> None:
        sessionmaker = make_sessionmaker(apps.profile.state.engine)
        async with sessionmaker() as session:
            row = org("kit-db-expire", "s1", name="Kept")
            session.add(row)
            await session.commit()
        assert row.name == "Kept"


def session_app(settings: ProfileSettings, tenant: str) -> FastAPI:
    """A tiny service whose routes write orgs of `tenant` through `SessionDep`."""
    app = create_base_app(settings, title="session-test", description="Writes through the request session.")

    @app.post("/orgs/{sourced_id}")
    async def create(sourced_id: str, session: SessionDep) -> dict[str, str]:
        session.add(org(tenant, sourced_id, name="Original"))
        return {"sourced_id": sourced_id}

    @app.post("/orgs/{sourced_id}/with-duplicate")
    async def create_with_duplicate(sourced_id: str, session: SessionDep) -> dict[str, str]:
        session.add(org(tenant, f"{sourced_id}-sibling"))
        session.add(org(tenant, sourced_id, name="Impostor"))
        return {"sourced_id": sourced_id}

    @app.post("/orgs/{sourced_id}/with-orphan")
    async def create_with_orphan(sourced_id: str, session: SessionDep) -> dict[str, str]:
        session.add(org(tenant, sourced_id))
        session.add(org(tenant, f"{sourced_id}-child", parent="no-such-parent"))
        return {"sourced_id": sourced_id}

    @app.post("/orgs/{sourced_id}/then-conflict")
    async def create_then_fail(sourced_id: str, session: SessionDep) -> dict[str, str]:
        session.add(org(tenant, sourced_id))
        await session.flush()
        raise ConflictError("Changed my mind.")

    return app


@pytest.fixture
def tenant() -> str:
    """A tenant id no other test writes."""
    return f"kit-db-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def reader(databases: Databases, tenant: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own on the profile database; removes the tenant's rows afterwards."""
    engine = create_engine(databases.urls["profile"])
    yield engine
    table = Org.__table__  # type: ignore[attr-defined]
    async with engine.begin() as conn:
        await conn.execute(table.delete().where(table.c.tenant_id == tenant, table.c.parent_sourced_id.is_not(None)))
        await conn.execute(table.delete().where(table.c.tenant_id == tenant))
    await engine.dispose()


@pytest.fixture
async def client(
    databases: Databases, var_dir: Path, tenant: str, reader: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the session app on the migrated profile database."""
    settings = ProfileSettings(database_url=databases.urls["profile"], var_dir=var_dir)
    async with serve(session_app(settings, tenant), raise_app_exceptions=False) as client:
        yield client


class TestSessionDep:
    async def test_a_successful_write_is_visible_elsewhere_right_after_the_response(
        self, client: httpx.AsyncClient, reader: AsyncEngine, tenant: str
    ) -> None:
        response = await client.post("/orgs/s1")
        assert response.status_code == 200
        assert await stored_orgs(reader, tenant) == {"s1": "Original"}

    async def test_a_duplicate_key_found_at_commit_is_not_a_200(
        self, client: httpx.AsyncClient, reader: AsyncEngine, tenant: str
    ) -> None:
        assert (await client.post("/orgs/s1")).status_code == 200
        response = await client.post("/orgs/s1/with-duplicate")
        assert response.status_code == 500
        assert response.json()["code"] == "internal_error"
        assert await stored_orgs(reader, tenant) == {"s1": "Original"}

    async def test_a_missing_parent_found_at_commit_is_not_a_200(
        self, client: httpx.AsyncClient, reader: AsyncEngine, tenant: str
    ) -> None:
        response = await client.post("/orgs/s2/with-orphan")
        assert response.status_code == 500
        assert await stored_orgs(reader, tenant) == {}

    async def test_an_error_raised_by_the_handler_rolls_back(
        self, client: httpx.AsyncClient, reader: AsyncEngine, tenant: str
    ) -> None:
        response = await client.post("/orgs/s3/then-conflict")
        assert response.status_code == 409
        assert await stored_orgs(reader, tenant) == {}
