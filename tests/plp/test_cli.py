"""The `plp` command line: token, migrate, and the idempotent demo district."""

import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from kit.auth import TokenVerifier
from kit.settings import AppSettings
from plp.cli import app
from tests.conftest import SERVICES, Databases

runner = CliRunner()
DEMO_ROWS = {"org": 3, "academicSession": 2, "course": 4, "user": 489, "class": 12, "enrollment": 492}


class TestToken:
    async def test_prints_a_token_the_services_accept(self, var_dir: object, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_VAR_DIR", str(var_dir))
        result = runner.invoke(
            app, ["token", "--tenant", "demo", "--sub", "demo-teacher-01", "--role", "teacher", "--scope", "a"]
        )
        assert result.exit_code == 0, result.output
        principal = await TokenVerifier.from_settings(AppSettings()).verify(result.output.strip())
        assert (principal.tenant_id, principal.sub) == ("demo", "demo-teacher-01")
        assert principal.roles == {"teacher"}
        assert principal.scopes == {"a"}

    def test_refuses_an_unknown_role(self, var_dir: object, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("PLP_VAR_DIR", str(var_dir))
        result = runner.invoke(app, ["token", "--tenant", "demo", "--sub", "x", "--role", "wizard"])
        assert result.exit_code == 2
        assert "unknown role wizard" in result.output

    def test_requires_a_tenant(self) -> None:
        result = runner.invoke(app, ["token", "--sub", "x"])
        assert result.exit_code == 2


@pytest.fixture
def fresh_urls(databases: Databases, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Empty databases for the three services, configured through the environment as an operator would."""
    urls = {}
    for service in SERVICES:
        name = f"plp_test_{os.getpid()}_cli_{service}"
        urls[service] = databases.create(name)
        monkeypatch.setenv(f"PLP_{service.upper()}_DATABASE_URL", urls[service])
    yield urls
    for service in SERVICES:
        databases.drop(f"plp_test_{os.getpid()}_cli_{service}")


class TestMigrateAndSeed:
    def test_seed_before_migrate_says_what_to_do_and_writes_nothing(self, fresh_urls: dict[str, str]) -> None:
        refused = runner.invoke(app, ["seed", "demo"])
        assert refused.exit_code == 1
        assert "The profile database is at no revision, not at head: run `plp migrate` first." in refused.output

        assert runner.invoke(app, ["migrate"]).exit_code == 0
        seeded = runner.invoke(app, ["seed", "demo"])
        assert seeded.exit_code == 0, seeded.output
        assert '"user": 489' in seeded.output

    def test_migrate_then_seed_loads_the_demo_district_once(self, fresh_urls: dict[str, str]) -> None:
        migrated = runner.invoke(app, ["migrate"])
        assert migrated.exit_code == 0, migrated.output
        for service in SERVICES:
            assert f"{service}: at head" in migrated.output

        first = runner.invoke(app, ["seed", "demo"])
        assert first.exit_code == 0, first.output
        assert '"tenant": "demo"' in first.output
        for table, count in DEMO_ROWS.items():
            assert f'"{table}": {count}' in first.output
        assert '"statement": 1080' in first.output

        second = runner.invoke(app, ["seed", "demo"])
        assert second.exit_code == 0, second.output
        for table in (*DEMO_ROWS, "statement"):
            assert f'"{table}": 0' in second.output
