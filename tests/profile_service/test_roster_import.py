"""OneRoster CSV imports over REST: upload, background job, bulk and delta semantics, row errors,
one transaction, idempotence, scopes and tenancy."""

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.profile_service import demo, roster_import, roster_store, scopes
from services.profile_service.db import outbox
from tests.conftest import Apps
from tests.profile_service.csv_district import District, delta, district, roster_zip, table, zip_files
from tests.profile_service.oneroster_data import BASE, READ_ALL, partner, writer
from tests.tokens import TokenFactory

IMPORTS = f"{BASE}/imports"
ZIP = {"Content-Type": "application/zip"}


async def upload(
    client: httpx.AsyncClient, tokens: TokenFactory, content: bytes, tenant: str = "t1", filename: str | None = None
) -> httpx.Response:
    """POST the zip as the body."""
    params = {"filename": filename} if filename else None
    return await client.post(IMPORTS, content=content, params=params, headers={**writer(tokens, tenant), **ZIP})


async def finished(client: httpx.AsyncClient, tokens: TokenFactory, job_id: str, tenant: str = "t1") -> dict[str, Any]:
    """The job once it has succeeded or failed."""
    for _ in range(600):
        response = await client.get(f"{IMPORTS}/{job_id}", headers=writer(tokens, tenant))
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()["importJob"]
        if job["state"] in {"succeeded", "failed"}:
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish")


async def imported(
    client: httpx.AsyncClient, tokens: TokenFactory, content: bytes, tenant: str = "t1"
) -> dict[str, Any]:
    """Upload `content` and wait for its job to succeed."""
    response = await upload(client, tokens, content, tenant)
    assert response.status_code == 202, response.text
    job = await finished(client, tokens, response.json()["importJob"]["id"], tenant)
    assert job["state"] == "succeeded", job
    return job


async def read(client: httpx.AsyncClient, tokens: TokenFactory, path: str, tenant: str = "t1") -> Any:
    """GET a OneRoster path as a partner that may read everything."""
    response = await client.get(f"{BASE}{path}", headers=writer(tokens, tenant))
    assert response.status_code == 200, response.text
    return response.json()


async def outbox_count(apps: Apps) -> int:
    """Rows in the profile outbox."""
    async with apps.profile.state.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(outbox)) or 0)


def small() -> District:
    """The demo-sized district, with demographics for ten students."""
    return district(demographics=10)


def without_user(tables: District, user_id: str) -> District:
    """`tables` without the user, their roles and their enrollments."""
    kept = dict(tables)
    for name, column in (("users", "sourcedId"), ("roles", "userSourcedId"), ("enrollments", "userSourcedId")):
        source = tables[name]
        index = source.header.index(column)
        kept[name] = type(source)(source.header, [r for r in source.rows if r[index] != user_id])
    return kept


class TestCreateImport:
    async def test_a_bulk_import_runs_in_the_background_and_the_rest_api_reads_it(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await upload(profile, tokens, roster_zip(small()), filename="district.zip")

        assert response.status_code == 202, response.text
        queued = response.json()["importJob"]
        assert queued["state"] == "queued"
        assert queued["filename"] == "district.zip"
        assert queued["createdBy"] == "sis-client"
        assert response.headers["Location"].endswith(f"{IMPORTS}/{queued['id']}")
        job = await finished(profile, tokens, queued["id"])
        assert job["state"] == "succeeded", job
        assert job["progress"] == 1.0
        assert (job["errorCount"], job["errors"], job["detail"]) == (0, [], None)
        assert job["notImported"] == []
        assert job["files"]["users.csv"] == {
            "mode": "bulk",
            "rows": 488,
            "created": 488,
            "updated": 0,
            "unchanged": 0,
            "deleted": 0,
            "error": 0,
        }
        assert job["files"]["enrollments.csv"]["created"] == 492
        assert job["files"]["roles.csv"]["rows"] == 488
        assert job["files"]["demographics.csv"]["created"] == 10
        student = (await read(profile, tokens, "/users/stu-000001"))["user"]
        assert student["email"] == "stu-000001@riverbend.example"
        assert student["userIds"] == [{"type": "SIS", "identifier": "0"}]
        assert student["agents"][0]["sourcedId"] == "gua-000001"
        assert [(r["role"], r["org"]["sourcedId"]) for r in student["roles"]] == [("student", "org-s001")]
        assert [t["sourcedId"] for t in (await read(profile, tokens, "/classes/cls-00001"))["class"]["terms"]] == [
            "term-fall",
            "term-spring",
        ]
        students = await read(profile, tokens, "/classes/cls-00001/students?limit=1000")
        assert students["users"]
        response = await profile.get(f"{BASE}/enrollments?limit=1", headers=writer(tokens))
        assert response.headers["X-Total-Count"] == "492"
        assert (await read(profile, tokens, "/demographics/stu-000002"))["demographics"]["sex"] == "male"

    async def test_importing_the_same_file_again_changes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        content = roster_zip(small())
        await imported(profile, tokens, content)
        before = (await read(profile, tokens, "/users/tea-00001"))["user"]["dateLastModified"]
        events = await outbox_count(apps)

        job = await imported(profile, tokens, content)

        for name, counts in job["files"].items():
            if name != "roles.csv":
                assert counts["unchanged"] == counts["rows"] > 0, (name, counts)
                assert counts["created"] == counts["updated"] == counts["deleted"] == counts["error"] == 0
        assert (await read(profile, tokens, "/users/tea-00001"))["user"]["dateLastModified"] == before
        assert await outbox_count(apps) == events

    async def test_a_bulk_file_without_a_user_marks_it_tobedeleted(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        tables = small()
        await imported(profile, tokens, roster_zip(tables))
        before = (await read(profile, tokens, "/users/stu-000003"))["user"]["dateLastModified"]

        job = await imported(profile, tokens, roster_zip(without_user(tables, "stu-000003")))

        assert job["files"]["users.csv"]["deleted"] == 1
        assert job["files"]["enrollments.csv"]["deleted"] == 2
        changed = await read(profile, tokens, f"/users?filter=dateLastModified>'{before}'")
        assert [(u["sourcedId"], u["status"]) for u in changed["users"]] == [("stu-000003", "tobedeleted")]

    async def test_only_bulk_files_tombstone_what_they_leave_out(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        tables = small()
        await imported(profile, tokens, roster_zip(tables))
        smaller = without_user(tables, "stu-000003")

        job = await imported(profile, tokens, roster_zip(smaller, modes={"users": "delta", "roles": "delta"}))

        assert job["files"]["users.csv"]["deleted"] == 0
        assert (await read(profile, tokens, "/users/stu-000003"))["user"]["status"] == "active"
        assert job["files"]["enrollments.csv"]["deleted"] == 2

    async def test_a_bulk_file_changing_every_user_updates_them_and_their_roles(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        tables = small()
        await imported(profile, tokens, roster_zip(tables))
        users, roles = tables["users"], tables["roles"]
        for row in users.rows:
            row[users.header.index("familyName")] += "-Lee"
        for row in roles.rows:
            row[roles.header.index("orgSourcedId")] = "org-d"

        job = await imported(profile, tokens, roster_zip(tables))

        assert job["files"]["users.csv"]["updated"] == 488
        teacher = (await read(profile, tokens, "/users/tea-00002"))["user"]
        assert teacher["familyName"].endswith("-Lee")
        assert [(r["role"], r["org"]["sourcedId"]) for r in teacher["roles"]] == [("teacher", "org-d")]

    async def test_objects_another_writer_created_meanwhile_are_updated(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        tables = small()
        await imported(profile, tokens, roster_zip(tables))
        for row in tables["users"].rows:
            row[tables["users"].header.index("email")] = ""

        async def nothing_stored(*_args: Any) -> list[Any]:
            return []  # as if every object were created between the store's read and its write

        monkeypatch.setattr(roster_store, "_rows_by_key", nothing_stored)
        job = await imported(profile, tokens, roster_zip(tables))

        assert job["files"]["users.csv"]["error"] == 0
        student = (await read(profile, tokens, "/users/stu-000002"))["user"]
        assert student["email"] is None
        assert [r["role"] for r in student["roles"]] == ["student"]
        assert [a["sourcedId"] for a in student["agents"]] == ["gua-000002"]

    async def test_rows_may_refer_to_rows_further_down_their_file(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(roster_import, "CHUNK", 50)  # students (rows 9-248) name guardians (rows 249-488)
        tables = small()
        orgs = tables["orgs"]
        orgs.rows.reverse()  # schools before their district

        job = await imported(profile, tokens, roster_zip(tables))

        assert job["errorCount"] == 0, job["errors"][:3]
        assert job["files"]["users.csv"]["created"] == 488
        student = (await read(profile, tokens, "/users/stu-000001"))["user"]
        assert [a["sourcedId"] for a in student["agents"]] == ["gua-000001"]
        school = (await read(profile, tokens, "/orgs/org-s001"))["org"]
        assert school["parent"]["sourcedId"] == "org-d"

    async def test_a_delta_updates_adds_and_tombstones(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        tables = small()
        await imported(profile, tokens, roster_zip(tables))
        change = delta(tables, fraction=0.02)
        renamed = change["users"].rows[0][0]
        dropped = next(r[0] for r in change["enrollments"].rows if r[1] == "tobedeleted")

        job = await imported(profile, tokens, roster_zip(change, "delta"))

        users = len(change["users"].rows)
        assert job["files"]["users.csv"] == {**job["files"]["users.csv"], "rows": users, "updated": users, "error": 0}
        enrollments = job["files"]["enrollments.csv"]
        assert enrollments["deleted"] == enrollments["created"] == len(change["enrollments"].rows) // 2
        assert (await read(profile, tokens, f"/users/{renamed}"))["user"]["familyName"].endswith("-Lee")
        assert (await read(profile, tokens, f"/enrollments/{dropped}"))["enrollment"]["status"] == "tobedeleted"
        assert (await read(profile, tokens, "/enrollments/enr-new-0000001"))["enrollment"]["status"] == "active"
        response = await profile.get(f"{BASE}/enrollments?limit=1&filter=status='active'", headers=writer(tokens))
        assert response.headers["X-Total-Count"] == "492"

    async def test_a_bad_row_is_reported_with_its_line_and_the_rest_is_imported(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        tables = small()
        tables["users"].rows[5][tables["users"].header.index("givenName")] = ""
        tables["enrollments"].rows[9][tables["enrollments"].header.index("classSourcedId")] = "cls-missing"
        bad_user = tables["users"].rows[5][0]
        user_column = tables["enrollments"].header.index("userSourcedId")
        dependents = [n + 2 for n, row in enumerate(tables["enrollments"].rows) if row[user_column] == bad_user]

        job = await imported(profile, tokens, roster_zip(tables))

        assert job["errorCount"] == 2 + len(dependents) > 2
        for line in dependents:
            reason = f"No user {bad_user!r} in this tenant."
            assert {"file": "enrollments.csv", "line": line, "field": "userSourcedId", "reason": reason} in job[
                "errors"
            ]
        assert {"file": "users.csv", "line": 7, "field": "givenName", "reason": "a value is required"} in job["errors"]
        assert {
            "file": "enrollments.csv",
            "line": 11,
            "field": "classSourcedId",
            "reason": "No class 'cls-missing' in this tenant.",
        } in job["errors"]
        assert job["files"]["users.csv"]["error"] == 1
        assert job["files"]["users.csv"]["created"] == 487
        assert job["files"]["enrollments.csv"]["created"] == 491 - len(dependents)
        response = await profile.get(f"{BASE}/users/{bad_user}", headers=writer(tokens))
        assert response.status_code == 404

    async def test_a_crash_writes_nothing_and_fails_the_job(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        apply_records = roster_store.apply_records

        async def crash_on_enrollments(*args: Any, **kwargs: Any) -> list[roster_store.Outcome]:
            if args[2] == "enrollment":
                raise RuntimeError("disk on fire")
            return await apply_records(*args, **kwargs)

        monkeypatch.setattr(roster_store, "apply_records", crash_on_enrollments)
        response = await upload(profile, tokens, roster_zip(small()))

        job = await finished(profile, tokens, response.json()["importJob"]["id"])

        assert job["state"] == "failed"
        assert job["detail"].startswith("Nothing was imported: the import stopped on RuntimeError")
        assert (await read(profile, tokens, "/orgs"))["orgs"] == []
        assert (await read(profile, tokens, "/users"))["users"] == []

    async def test_a_file_that_is_not_oneroster_is_refused_before_any_job(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        for content in (b"not a zip", zip_files({"users.csv": "sourcedId\n"})):
            response = await upload(profile, tokens, content)

            assert response.status_code == 400, response.text
            assert response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
                "invaliddata"
            )
        assert "manifest.csv" in response.json()["imsx_description"]
        assert (await read(profile, tokens, "/imports"))["importJobs"] == []

    async def test_the_body_must_be_a_zip(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await profile.post(
            IMPORTS, content=roster_zip(small()), headers={**writer(tokens), "Content-Type": "text/csv"}
        )

        assert response.status_code == 415
        assert (await read(profile, tokens, "/imports"))["importJobs"] == []

    async def test_needs_the_roster_write_scope(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = {**partner(tokens, *READ_ALL), **ZIP}

        response = await profile.post(IMPORTS, content=roster_zip(small()), headers=headers)

        assert response.status_code == 403
        assert scopes.ROSTER_WRITE in response.json()["imsx_description"]

    async def test_unauthenticated(self, profile: httpx.AsyncClient, unauthenticated: dict[str, str]) -> None:
        response = await profile.post(IMPORTS, content=roster_zip(small()), headers={**unauthenticated, **ZIP})

        assert response.status_code == 401


class TestReadImport:
    async def test_another_tenants_job_is_not_found(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        job = await imported(profile, tokens, roster_zip(small()), tenant="t2")

        response = await profile.get(f"{IMPORTS}/{job['id']}", headers=writer(tokens, "t1"))

        assert response.status_code == 404
        assert response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
            "unknownobject"
        )
        assert (await read(profile, tokens, "/users", tenant="t1"))["users"] == []

    async def test_needs_the_roster_write_scope(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        job = await imported(profile, tokens, roster_zip(small()))

        response = await profile.get(f"{IMPORTS}/{job['id']}", headers=partner(tokens, *READ_ALL))

        assert response.status_code == 403

    async def test_unauthenticated(self, profile: httpx.AsyncClient, unauthenticated: dict[str, str]) -> None:
        response = await profile.get(f"{IMPORTS}/some-job", headers=unauthenticated)

        assert response.status_code == 401


class TestListImports:
    async def test_lists_the_tenants_jobs_newest_first(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        first = await imported(profile, tokens, roster_zip(small()))
        second = await imported(profile, tokens, roster_zip(small()))
        await imported(profile, tokens, roster_zip(small()), tenant="t2")

        jobs = (await read(profile, tokens, "/imports"))["importJobs"]

        assert [j["id"] for j in jobs] == [second["id"], first["id"]]
        assert "errors" not in jobs[0]
        assert jobs[0]["files"]["users.csv"]["unchanged"] == 488

    async def test_needs_the_roster_write_scope(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await profile.get(IMPORTS, headers=partner(tokens, *READ_ALL))

        assert response.status_code == 403

    async def test_unauthenticated(self, profile: httpx.AsyncClient, unauthenticated: dict[str, str]) -> None:
        response = await profile.get(IMPORTS, headers=unauthenticated)

        assert response.status_code == 401


def _cell(data: dict[str, Any], column: str) -> str:
    """One CSV cell of a OneRoster JSON object: references by id, lists comma-joined."""
    if column.endswith("SourcedIds"):
        key = {"termSourcedIds": "terms", "agentSourcedIds": "agents"}.get(column, "")
        return ",".join(ref["sourcedId"] for ref in data.get(key, []))
    if column.endswith("SourcedId") and column != "sourcedId":
        ref = data.get(column.removesuffix("SourcedId"))
        return str(ref["sourcedId"]) if ref else ""
    value = data.get(column)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(value)
    return "" if value is None else str(value)


def demo_as_csv() -> District:
    """The demo district (`plp seed demo`'s data) as OneRoster 1.2 CSV tables."""
    files = {
        name: table(name)
        for name in ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments")
    }
    collections = {"org": "orgs", "academicSession": "academicSessions", "course": "courses", "class": "classes"}
    collections |= {"user": "users", "enrollment": "enrollments"}
    for kind, data in demo.demo_roster():
        target = files[collections[kind]]
        target.rows.append([_cell(data, column) for column in target.header])
        for number, role in enumerate(data.get("roles", [])):
            row = {**role, "sourcedId": f"{data['sourcedId']}-role-{number}", "user": {"sourcedId": data["sourcedId"]}}
            files["roles"].rows.append([_cell(row, column) for column in files["roles"].header])
    return files


class TestDemoDistrict:
    async def test_importing_the_demo_district_as_csv_gives_exactly_the_seeded_roster(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await upload(profile, tokens, roster_zip(demo_as_csv()), tenant=demo.TENANT)
        job = await finished(profile, tokens, response.json()["importJob"]["id"], tenant=demo.TENANT)
        assert job["state"] == "succeeded", job
        assert job["errorCount"] == 0, job["errors"]

        async with apps.profile.state.sessionmaker() as session, session.begin():
            written = await demo.seed_demo(session)

        assert set(written.values()) == {0}, written
        students = await profile.get(
            f"{BASE}/classes/demo-class-north-math-a/students", headers=partner(tokens, *READ_ALL, tenant=demo.TENANT)
        )
        assert students.headers["x-total-count"] == "30"
