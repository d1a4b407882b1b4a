"""`plp roster import`: a OneRoster CSV zip into a fresh profile database, with counts, row errors and exit codes."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from kit.db import create_engine
from plp.cli import app
from services.profile_service import roster_store
from services.profile_service.models import ImportJob, RosterUser, Tenant
from tests.profile_service.csv_district import district, roster_zip

runner = CliRunner()


@pytest.fixture
def district_zip(tmp_path: Path) -> Path:
    """The demo-sized district as a bulk zip on disk."""
    path = tmp_path / "district.zip"
    path.write_bytes(roster_zip(district()))
    return path


def run_import(path: Path, tenant: str = "riverbend", *extra: str) -> Result:
    """Run `plp roster import`."""
    return runner.invoke(app, ["roster", "import", str(path), "--tenant", tenant, *extra])


def summary(result: Result) -> dict[str, Any]:
    """The JSON summary on the last line."""
    last: dict[str, Any] = json.loads(result.output.strip().splitlines()[-1])
    return last


def count(url: str, table: Any, *conditions: Any) -> int:
    """Rows of `table` matching `conditions`."""

    async def counted() -> int:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                query = sa.select(sa.func.count()).select_from(table).where(*conditions)
                return int(await conn.scalar(query) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(counted())


class TestRosterImport:
    def test_imports_the_district_and_creates_the_tenant(self, fresh_profile: str, district_zip: Path) -> None:
        result = run_import(district_zip)

        assert result.exit_code == 0, result.output
        assert "users.csv (bulk): 488 rows: 488 created, 0 updated, 0 unchanged, 0 deleted, 0 error" in result.output
        assert "enrollments.csv (bulk): 492 rows: 492 created" in result.output
        last = summary(result)
        assert (last["tenant"], last["state"], last["error_count"]) == ("riverbend", "succeeded", 0)
        assert last["files"]["classes.csv"]["created"] == 12
        assert count(fresh_profile, Tenant, Tenant.id == "riverbend") == 1
        assert count(fresh_profile, RosterUser, RosterUser.tenant_id == "riverbend") == 488
        assert count(fresh_profile, ImportJob, ImportJob.state == "succeeded") == 1

    def test_importing_again_changes_nothing(self, fresh_profile: str, district_zip: Path) -> None:
        assert run_import(district_zip).exit_code == 0

        again = run_import(district_zip)

        assert again.exit_code == 0, again.output
        assert "users.csv (bulk): 488 rows: 0 created, 0 updated, 488 unchanged, 0 deleted, 0 error" in again.output

    def test_row_errors_are_listed_and_do_not_fail_the_import(self, fresh_profile: str, tmp_path: Path) -> None:
        tables = district()
        tables["users"].rows[5][tables["users"].header.index("givenName")] = ""
        path = tmp_path / "bad-row.zip"
        path.write_bytes(roster_zip(tables))

        result = run_import(path, "riverbend", "--show-errors", "1")

        assert result.exit_code == 0, result.output
        assert "row error(s); the first 1:" in result.output
        assert "  users.csv:7 givenName: a value is required" in result.output
        assert summary(result)["error_count"] > 1

    def test_refuses_a_file_that_is_not_oneroster(self, fresh_profile: str, tmp_path: Path) -> None:
        path = tmp_path / "notes.zip"
        path.write_text("not a zip")

        result = run_import(path)

        assert result.exit_code == 2
        assert "not a zip file" in result.output
        assert count(fresh_profile, ImportJob) == 0
        assert count(fresh_profile, Tenant) == 0

    def test_refuses_a_bad_tenant_id(self, fresh_profile: str, district_zip: Path) -> None:
        result = run_import(district_zip, "River Bend")

        assert result.exit_code == 2
        assert "Invalid tenant" in result.output

    def test_a_missing_file(self, fresh_profile: str, tmp_path: Path) -> None:
        result = run_import(tmp_path / "missing.zip")

        assert result.exit_code == 2

    def test_before_migrate_says_what_to_do(self, empty_profile: str, district_zip: Path) -> None:
        result = run_import(district_zip)

        assert result.exit_code == 1
        assert "run `plp migrate` first" in result.output

    def test_a_crash_exits_non_zero_and_writes_nothing(
        self, fresh_profile: str, district_zip: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def crash(*_args: Any, **_kwargs: Any) -> list[roster_store.Outcome]:
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(roster_store, "apply_records", crash)

        result = run_import(district_zip)

        assert result.exit_code == 3
        assert "failed: Nothing was imported" in result.output
        assert summary(result)["state"] == "failed"
        assert count(fresh_profile, RosterUser) == 0
