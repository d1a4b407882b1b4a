"""Our OneRoster write extension: idempotent PUT by sourcedId, DELETE as tombstone, bulk writes
with per-object outcomes, referential checks, events in the same transaction, scopes, tenancy."""

from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from services.profile_service import scopes
from services.profile_service.db import outbox
from tests.conftest import Apps
from tests.profile_service.oneroster_data import (
    BASE,
    READ_ALL,
    district,
    enrollment,
    load_district,
    partner,
    user,
    writer,
)
from tests.tokens import TokenFactory


async def outbox_events(apps: Apps) -> list[tuple[str, str]]:
    """(type, subject) of every event in the profile outbox, oldest first."""
    async with apps.profile.state.engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.type, outbox.c.subject_id).order_by(outbox.c.seq))
        return [(r.type, r.subject_id) for r in rows]


def code_minor(response: httpx.Response) -> str:
    """The OneRoster codeMinor of an error response."""
    value: str = response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    return value


@pytest.fixture
async def loaded(profile: httpx.AsyncClient, tokens: TokenFactory) -> dict[str, Any]:
    """The district written into tenant t1."""
    return await load_district(profile, tokens)


@pytest.mark.usefixtures("loaded")
class TestPut:
    async def test_creates_an_object_and_returns_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = {"user": user("u4", "student", "s2", email="u4@riverbend.example", grades=["07"])}

        response = await profile.put(f"{BASE}/users/u4", json=body, headers=writer(tokens))

        assert response.status_code == 201, response.text
        created = response.json()["user"]
        assert (created["sourcedId"], created["email"], created["status"]) == ("u4", "u4@riverbend.example", "active")
        assert [r["org"]["sourcedId"] for r in created["roles"]] == ["s2"]
        assert ("roster.user.upserted", "u4") in await outbox_events(apps)

    async def test_putting_the_same_object_again_changes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        before = (await profile.get(f"{BASE}/users/u1", headers=writer(tokens))).json()["user"]
        events_before = await outbox_events(apps)
        body = {"user": user("u1", "student", "s1", grades=["06"], familyName="O'Brien", agents=[{"sourcedId": "p1"}])}

        response = await profile.put(f"{BASE}/users/u1", json=body, headers=writer(tokens))

        assert response.status_code == 200, response.text
        assert response.json()["user"]["dateLastModified"] == before["dateLastModified"]
        assert await outbox_events(apps) == events_before

    async def test_a_change_moves_date_last_modified_and_replaces_the_lists(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        before = (await profile.get(f"{BASE}/users/t1", headers=writer(tokens))).json()["user"]
        body = {"user": user("t1", "teacher", "s2", email="t1@riverbend.example")}
        body["user"]["roles"].append({"roleType": "secondary", "role": "teacher", "org": {"sourcedId": "s1"}})

        response = await profile.put(f"{BASE}/users/t1", json=body, headers=writer(tokens))

        updated = response.json()["user"]
        assert response.status_code == 200
        assert updated["dateLastModified"] > before["dateLastModified"]
        assert sorted((r["org"]["sourcedId"], r["roleType"]) for r in updated["roles"]) == [
            ("s1", "secondary"),
            ("s2", "primary"),
        ]
        assert (await outbox_events(apps))[-1] == ("roster.user.upserted", "t1")

    async def test_an_enrollment_change_is_a_roster_enrollment_changed_event_about_the_user(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = {"enrollment": enrollment("c2", "u1", "student")}

        response = await profile.put(f"{BASE}/enrollments/c2-u1", json=body, headers=writer(tokens))

        assert response.status_code == 201
        assert (await outbox_events(apps))[-1] == ("roster.enrollment.changed", "u1")

    @pytest.mark.parametrize(
        ("path", "body", "field"),
        [
            ("/users/u5", {"user": {**user("u5", "student", "s1"), "givenName": ""}}, "givenName"),
            ("/users/u5", {"user": {k: v for k, v in user("u5", "student", "s1").items() if k != "roles"}}, "roles"),
            ("/users/u5", {"user": user("u5", "wizard", "s1")}, "roles.0.role"),
            ("/users/u5", {"user": user("u5", "student", "s1", email="not-an-email")}, "email"),
            ("/users/u5", {"user": user("u5", "student", "s1", shoeSize=9)}, "shoeSize"),
            ("/users/u5", {"user": user("u6", "student", "s1")}, "sourcedId"),
            ("/users/u5", {"users": user("u5", "student", "s1")}, "body"),
            ("/orgs/x", {"org": {"sourcedId": "x", "name": "X", "type": "galaxy"}}, "type"),
            ("/academicSessions/x", {"academicSession": {"sourcedId": "x", "title": "X", "type": "term"}}, "startDate"),
            (
                "/enrollments/e",
                {"enrollment": {**enrollment("c1", "u1", "student"), "sourcedId": "e", "role": "x"}},
                "role",
            ),
            (
                "/classes/c9",
                {"class": {"sourcedId": "c9", "title": "C9", "school": {"sourcedId": "nowhere"}}},
                "school",
            ),
            ("/enrollments/e", {"enrollment": {**enrollment("c9", "u1", "student"), "sourcedId": "e"}}, "class"),
            ("/users/u5", {"user": user("u5", "student", "s1", agents=[{"sourcedId": "ghost"}])}, "agents"),
            ("/demographics/ghost", {"demographics": {"sourcedId": "ghost", "sex": "female"}}, "sourcedId"),
        ],
    )
    async def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, path: str, body: dict[str, Any], field: str
    ) -> None:
        events_before = await outbox_events(apps)

        response = await profile.put(BASE + path, json=body, headers=writer(tokens))

        assert response.status_code == 400, response.text
        assert code_minor(response) == "invaliddata"
        assert response.json()["field"] == field
        assert await outbox_events(apps) == events_before
        assert (await profile.get(BASE + path, headers=writer(tokens))).status_code == 404

    async def test_a_malformed_sourced_id_in_the_path_is_refused(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await profile.put(f"{BASE}/users/bad%20id", json={"user": {}}, headers=writer(tokens))

        assert response.status_code == 400
        assert response.json()["field"] == "sourced_id"


@pytest.mark.usefixtures("loaded")
class TestDelete:
    async def test_marks_the_object_to_be_deleted_keeping_a_tombstone(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await profile.delete(f"{BASE}/users/u2", headers=writer(tokens))

        assert response.status_code == 204
        tombstone = (await profile.get(f"{BASE}/users/u2", headers=writer(tokens))).json()["user"]
        assert tombstone["status"] == "tobedeleted"
        assert (await outbox_events(apps))[-1] == ("roster.user.deleted", "u2")

    async def test_deleting_twice_is_harmless_and_adds_no_event(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await profile.delete(f"{BASE}/enrollments/c1-u1", headers=writer(tokens))
        events_before = await outbox_events(apps)

        again = await profile.delete(f"{BASE}/enrollments/c1-u1", headers=writer(tokens))

        assert again.status_code == 204
        assert await outbox_events(apps) == events_before

    async def test_an_unknown_object_is_unknownobject(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await profile.delete(f"{BASE}/classes/c9", headers=writer(tokens))

        assert response.status_code == 404
        assert code_minor(response) == "unknownobject"

    async def test_a_deleted_enrollment_no_longer_lets_the_teacher_see_the_learner(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        teacher = tokens.headers("t1", "teacher")
        assert (await profile.get("/learners/u2", headers=teacher)).status_code == 200

        await profile.delete(f"{BASE}/enrollments/c1-u2", headers=writer(tokens))

        assert (await profile.get("/learners/u2", headers=teacher)).status_code == 404


class TestBulk:
    async def test_creates_a_district_reporting_each_object(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = await load_district(profile, tokens)

        assert body["counts"] == {"created": 23}
        assert {"type": "user", "sourcedId": "u1", "result": "created", "origin": "users[2]"} in body["results"]

    async def test_a_bad_object_is_reported_and_the_rest_is_written(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        data = district()
        data["users"][3] = {**data["users"][3], "givenName": ""}  # u2 is invalid
        response = await profile.post(f"{BASE}/bulk", json=data, headers=writer(tokens))

        body = response.json()
        assert response.status_code == 200
        failed = {(r["type"], r["sourcedId"]): r for r in body["results"] if r["result"] == "error"}
        assert set(failed) == {("user", "u2"), ("enrollment", "c1-u2")}
        assert failed[("user", "u2")]["errors"] == [
            {"field": "givenName", "message": "String should have at least 1 character"}
        ]
        assert failed[("enrollment", "c1-u2")]["errors"][0]["field"] == "user"
        assert body["counts"] == {"created": 21, "error": 2}
        students = await profile.get(f"{BASE}/classes/c1/students", headers=writer(tokens))
        assert [u["sourcedId"] for u in students.json()["users"]] == ["u1"]
        assert ("roster.user.upserted", "u2") not in await outbox_events(apps)

    async def test_the_same_sourced_id_twice_in_one_request_is_an_error_for_the_second(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        data = {
            "orgs": [
                {"sourcedId": "d", "name": "A", "type": "district"},
                {"sourcedId": "d", "name": "B", "type": "district"},
            ]
        }

        body = (await profile.post(f"{BASE}/bulk", json=data, headers=writer(tokens))).json()

        assert [r["result"] for r in body["results"]] == ["created", "error"]
        org = await profile.get(f"{BASE}/orgs/d", headers=writer(tokens))
        assert org.json()["org"]["name"] == "A"

    async def test_repeating_a_bulk_request_changes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await load_district(profile, tokens)
        events_before = await outbox_events(apps)

        again = await load_district(profile, tokens)

        assert again["counts"] == {"unchanged": 23}
        assert await outbox_events(apps) == events_before

    @pytest.mark.parametrize(
        ("body", "field"),
        [({"wizards": []}, "wizards"), ({"users": "all of them"}, "users"), ([], "body")],
    )
    async def test_a_malformed_request_is_refused(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, body: Any, field: str
    ) -> None:
        response = await profile.post(f"{BASE}/bulk", json=body, headers=writer(tokens))

        assert response.status_code == 400
        assert response.json()["field"] == field


class TestWriteAuthorization:
    @pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
    async def test_a_partner_without_the_write_scope_is_forbidden(
        self, profile: httpx.AsyncClient, tokens: TokenFactory, method: str
    ) -> None:
        path = f"{BASE}/bulk" if method == "POST" else f"{BASE}/orgs/d"
        body: dict[str, Any] = {"org": {"sourcedId": "d", "name": "D", "type": "district"}}
        if method == "POST":
            body = {"orgs": [body["org"]]}

        response = await profile.request(method, path, json=body, headers=partner(tokens, *READ_ALL))

        assert response.status_code == 403
        assert code_minor(response) == "forbidden"

    async def test_an_admin_token_without_the_write_scope_is_forbidden(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = {"org": {"sourcedId": "d", "name": "D", "type": "district"}}

        response = await profile.put(f"{BASE}/orgs/d", json=body, headers=tokens.headers("admin", "admin"))

        assert response.status_code == 403

    async def test_an_unauthenticated_caller_is_unauthorisedrequest(
        self, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await profile.post(f"{BASE}/bulk", json=district(), headers=unauthenticated)

        assert response.status_code == 401
        assert code_minor(response) == "unauthorisedrequest"

    async def test_a_reference_to_another_tenants_object_is_refused(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await load_district(profile, tokens, tenant="t2")
        body = {"enrollment": enrollment("c1", "u1", "student")}

        response = await profile.put(f"{BASE}/enrollments/c1-u1", json=body, headers=writer(tokens, tenant="t1"))

        assert response.status_code == 400
        assert response.json()["field"] == "user"

    async def test_writes_land_in_the_callers_tenant_only(
        self, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await load_district(profile, tokens, tenant="t2")

        t1 = await profile.get(f"{BASE}/orgs", headers=partner(tokens, scopes.ROSTER_READ))
        t2 = await profile.get(f"{BASE}/orgs", headers=partner(tokens, scopes.ROSTER_READ, tenant="t2"))

        assert t1.json()["orgs"] == []
        assert len(t2.json()["orgs"]) == 3
