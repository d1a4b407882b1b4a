"""Each service's migrations and its SQLModel tables agree, and the history runs down and up."""

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from kit.migrate import alembic_config, head_revision, upgrade
from tests.conftest import METADATA, SERVICES, Databases

SYNC_DRIVERS = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}


def sync_engine(url: str) -> sa.Engine:
    """A blocking engine for the same database as the async `url`."""
    parsed = make_url(url)
    return sa.create_engine(parsed.set(drivername=SYNC_DRIVERS[parsed.get_backend_name()]))


@pytest.fixture(params=SERVICES)
def fresh_database(request: pytest.FixtureRequest, databases: Databases) -> Iterator[tuple[str, str]]:
    """(service, url) of an empty database for one service."""
    service: str = request.param
    name = f"plp_test_{os.getpid()}_fresh_{service}"
    yield service, databases.create(name)
    databases.drop(name)


class TestMigrations:
    def test_upgraded_schema_matches_the_models(self, fresh_database: tuple[str, str]) -> None:
        service, url = fresh_database
        upgrade(service, url)
        engine = sync_engine(url)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, METADATA[service]) == []
            assert context.get_current_revision() == head_revision(service)
        engine.dispose()

    def test_history_downgrades_to_base_and_upgrades_again(self, fresh_database: tuple[str, str]) -> None:
        service, url = fresh_database
        upgrade(service, url)
        command.downgrade(alembic_config(service, url), "base")
        engine = sync_engine(url)
        with engine.connect() as conn:
            assert sa.inspect(conn).get_table_names() == ["alembic_version"]
        engine.dispose()
        upgrade(service, url)
        engine = sync_engine(url)
        with engine.connect() as conn:
            assert set(METADATA[service].tables) <= set(sa.inspect(conn).get_table_names())
        engine.dispose()
