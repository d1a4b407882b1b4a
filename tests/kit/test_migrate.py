"""`kit.migrate`: one Alembic history per service, and how the kit's column types are rendered."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from kit.db import BIGINT_ID, JSON_TYPE, UtcDateTime, create_engine
from kit.migrate import (
    MIGRATIONS_DIR,
    SERVICES,
    _render_item,
    alembic_config,
    current_revision,
    head_revision,
    upgrade_on,
)
from tests.conftest import Databases


@pytest.fixture
def empty_database(databases: Databases) -> Iterator[str]:
    """The URL of a fresh empty database, dropped afterwards."""
    name = f"plp_test_migrate_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield databases.create(name)
    databases.drop(name)


class TestAlembicConfig:
    @pytest.mark.parametrize("service", SERVICES)
    def test_each_service_has_its_own_script_location(self, service: str) -> None:
        config = alembic_config(service, "sqlite+aiosqlite:///x.db")
        assert config.config_ini_section == service
        assert Path(config.get_main_option("script_location") or "") == MIGRATIONS_DIR / service
        assert config.attributes["database_url"] == "sqlite+aiosqlite:///x.db"


class TestHeadRevision:
    @pytest.mark.parametrize("service", SERVICES)
    def test_the_head_is_the_newest_script_of_the_service(self, service: str) -> None:
        script = ScriptDirectory(str(MIGRATIONS_DIR / service))
        assert head_revision(service) == script.get_current_head()
        assert head_revision(service) is not None

    def test_the_services_histories_are_distinct(self) -> None:
        assert len({head_revision(s) for s in SERVICES}) == len(SERVICES)


class TestCurrentRevision:
    @pytest.mark.parametrize("service", SERVICES)
    async def test_a_migrated_database_is_at_head(self, databases: Databases, service: str) -> None:
        engine = create_engine(databases.urls[service])
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision(service)
        await engine.dispose()

    async def test_an_empty_database_has_no_revision(self, empty_database: str) -> None:
        engine = create_engine(empty_database)
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) is None
        await engine.dispose()


class TestUpgradeOn:
    async def test_an_open_connection_is_upgraded_to_head(self, empty_database: str) -> None:
        engine = create_engine(empty_database)
        async with engine.begin() as conn:
            await upgrade_on(conn, "pathway")
        async with engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision("pathway")
            tables = await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))
        await engine.dispose()
        assert "outbox" in tables


class TestRenderItem:
    def test_the_shared_json_type_is_rendered_by_name(self) -> None:
        assert _render_item("type", JSON_TYPE, None) == "kit.db.JSON_TYPE"  # type: ignore[arg-type]

    def test_the_shared_id_type_is_rendered_by_name(self) -> None:
        assert _render_item("type", BIGINT_ID, None) == "kit.db.BIGINT_ID"  # type: ignore[arg-type]

    def test_utc_timestamps_are_rendered_by_name(self) -> None:
        assert _render_item("type", UtcDateTime(), None) == "kit.db.UtcDateTime()"  # type: ignore[arg-type]

    def test_other_types_use_alembics_default(self) -> None:
        assert _render_item("type", sa.Integer(), None) is False  # type: ignore[arg-type]
        assert _render_item("type", sa.String(10), None) is False  # type: ignore[arg-type]

    def test_other_items_use_alembics_default(self) -> None:
        assert _render_item("server_default", JSON_TYPE, None) is False  # type: ignore[arg-type]

    @pytest.mark.parametrize("plain", [sa.JSON(), sa.BigInteger()], ids=["JSON", "BigInteger"])
    def test_a_plain_type_is_not_mistaken_for_the_shared_variant(self, plain: sa.types.TypeEngine[object]) -> None:
        assert _render_item("type", plain, None) is False  # type: ignore[arg-type]
