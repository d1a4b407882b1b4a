"""`plp client create|list|revoke`: district IT registers partner tools against a fresh profile database."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from plp.cli import app
from services.profile_service.app import create_app as create_profile
from services.profile_service.scopes import DEMOGRAPHICS_READ, ROSTER_CORE_READ, ROSTER_READ
from services.profile_service.settings import ProfileSettings
from tests.kit.asgi import serve

runner = CliRunner()
GRANT = {"grant_type": "client_credentials"}


def create(tenant: str, scopes: str, *extra: str) -> Result:
    """Run `plp client create`."""
    return runner.invoke(app, ["client", "create", "--tenant", tenant, "--scopes", scopes, *extra])


def credentials(result: Result) -> dict[str, str]:
    """The id and secret printed on the last line of a successful `plp client create`."""
    assert result.exit_code == 0, result.output
    last: dict[str, str] = json.loads(result.output.strip().splitlines()[-1])
    assert set(last) == {"client_id", "client_secret"}
    return last


def listed(tenant: str) -> list[dict[str, Any]]:
    """What `plp client list` prints, one object a line."""
    result = runner.invoke(app, ["client", "list", "--tenant", tenant])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


async def token_status(url: str, var_dir: Path, client: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """Ask a profile service on `url` for a token with the client's credentials."""
    settings = ProfileSettings(database_url=url, var_dir=var_dir)
    async with serve(create_profile(settings)) as profile:
        data = {**GRANT, "client_id": client["client_id"], "client_secret": client["client_secret"]}
        response = await profile.post("/oauth/token", data=data)
    body: dict[str, Any] = response.json()
    return response.status_code, body


class TestClientCreate:
    async def test_the_printed_secret_gets_a_token(self, fresh_profile: str, var_dir: Path) -> None:
        result = await asyncio.to_thread(create, "riverbend", f"{ROSTER_READ} {DEMOGRAPHICS_READ}", "--name", "Hub")
        client = credentials(result)
        assert "created tenant riverbend" in result.stderr
        assert result.stdout.strip() == json.dumps(client)
        status, body = await token_status(fresh_profile, var_dir, client)
        assert status == 200, body
        assert body["scope"].split() == sorted([ROSTER_READ, DEMOGRAPHICS_READ])

    def test_the_tenant_is_created_once(self, fresh_profile: str) -> None:
        first, second = create("riverbend", ROSTER_READ), create("riverbend", ROSTER_CORE_READ)
        assert credentials(first) != credentials(second)
        assert "created tenant riverbend" in first.stderr
        assert "created tenant" not in second.stderr
        assert [c["scopes"] for c in listed("riverbend")] == [[ROSTER_READ], [ROSTER_CORE_READ]]

    def test_an_unknown_scope_is_refused_and_nothing_is_written(self, fresh_profile: str) -> None:
        refused = create("riverbend", f"{ROSTER_READ} roster.readonly")
        assert refused.exit_code == 2
        assert "Unknown scope roster.readonly" in refused.output
        assert "client_secret" not in refused.output
        assert listed("riverbend") == []
        assert "created tenant riverbend" in create("riverbend", ROSTER_READ).stderr

    @pytest.mark.parametrize("scopes", ["", "   "])
    def test_no_scope_is_refused(self, fresh_profile: str, scopes: str) -> None:
        refused = create("riverbend", scopes)
        assert refused.exit_code == 2
        assert "at least one scope" in refused.output

    def test_a_bad_tenant_id_is_refused(self, fresh_profile: str) -> None:
        refused = create("River Bend", ROSTER_READ)
        assert refused.exit_code == 2
        assert "Invalid tenant 'River Bend'" in refused.output

    def test_an_unmigrated_database_is_refused_with_what_to_do(self, empty_profile: str) -> None:
        refused = create("riverbend", ROSTER_READ)
        assert refused.exit_code == 1
        assert "run `plp migrate` first" in refused.output


class TestClientList:
    def test_clients_are_listed_without_secrets(self, fresh_profile: str) -> None:
        client = credentials(create("riverbend", ROSTER_READ, "--name", "Roster Hub"))
        credentials(create("lakeside", ROSTER_READ))
        [shown] = listed("riverbend")
        assert shown["client_id"] == client["client_id"]
        assert (shown["tenant"], shown["name"], shown["scopes"]) == ("riverbend", "Roster Hub", [ROSTER_READ])
        assert shown["revoked_at"] is None
        assert set(shown) == {"client_id", "tenant", "name", "scopes", "created_at", "revoked_at"}

    def test_a_tenant_without_clients_says_so(self, fresh_profile: str) -> None:
        result = runner.invoke(app, ["client", "list", "--tenant", "nowhere"])
        assert result.exit_code == 0
        assert result.stdout == ""
        assert "tenant nowhere has no API clients" in result.stderr


class TestClientRevoke:
    async def test_a_revoked_client_gets_no_token(self, fresh_profile: str, var_dir: Path) -> None:
        client = credentials(await asyncio.to_thread(create, "riverbend", ROSTER_READ))
        revoked = await asyncio.to_thread(runner.invoke, app, ["client", "revoke", client["client_id"]])
        assert revoked.exit_code == 0, revoked.output
        assert json.loads(revoked.stdout)["revoked_at"] is not None
        [shown] = await asyncio.to_thread(listed, "riverbend")
        assert shown["revoked_at"] == json.loads(revoked.stdout)["revoked_at"]
        status, body = await token_status(fresh_profile, var_dir, client)
        assert (status, body["error"]) == (401, "invalid_client")

    def test_an_unknown_client_is_refused(self, fresh_profile: str) -> None:
        result = runner.invoke(app, ["client", "revoke", "0" * 32])
        assert result.exit_code == 1
        assert f"No client '{'0' * 32}'" in result.output
