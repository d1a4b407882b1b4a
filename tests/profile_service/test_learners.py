"""The profile service's learner endpoints: who may add learners, and who may see which learner.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches class `c-a` (school `s1`,
learners `l-a1`, `l-a2`); teacher `t-b` teaches `c-b` (school `s2`, learner `l-b1`); guardian
`g-a1` of `l-a1`; admin `admin`.
"""

import asyncio
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa

from services.profile_service.db import outbox
from services.profile_service.models import Enrollment, RosterUser
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.tokens import TokenFactory

ROSTER_WRITE = "https://plp.dev/scope/roster.write"
ROSTER_READ = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
LONG_AGO = date(2000, 1, 1)
FAR_AHEAD = date(2999, 1, 1)


def new_learner(sourced_id: str = "l-new", **fields: Any) -> dict[str, Any]:
    """A valid `POST /learners` body, with `fields` added or replaced."""
    return {"sourcedId": sourced_id, "givenName": "Nora", "familyName": "New", **fields}


def sourced_ids(response: httpx.Response) -> list[str]:
    """The sourcedIds of a 200 list of learners."""
    assert response.status_code == 200, response.text
    return [learner["sourcedId"] for learner in response.json()]


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The `Link` header as {rel: query parameters of the target}."""
    found: dict[str, dict[str, list[str]]] = {}
    for part in response.headers["link"].split(","):
        target, _, rel = part.partition(";")
        name = rel.strip().removeprefix("rel=").strip('"')
        found[name] = parse_qs(urlsplit(target.strip().strip("<>")).query)
    return found


async def outbox_events(apps: Apps, event_type: str) -> list[dict[str, Any]]:
    """The profile outbox rows of `event_type`, oldest first."""
    async with apps.profile.state.engine.connect() as conn:
        query = sa.select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.seq)
        return [dict(row._mapping) for row in await conn.execute(query)]


async def stored_user(apps: Apps, tenant: str, sourced_id: str) -> RosterUser | None:
    """The roster user row, read straight from the database."""
    async with apps.profile.state.sessionmaker() as session:
        user: RosterUser | None = await session.get(RosterUser, (tenant, sourced_id))
        return user


async def change_enrollment(
    apps: Apps,
    sourced_id: str,
    *,
    status: str | None = None,
    begin_date: date | None = None,
    end_date: date | None = None,
) -> None:
    """Edit one enrollment of tenant t1 in place, as a roster sync would."""
    async with apps.profile.state.sessionmaker() as session:
        enrollment = await session.get(Enrollment, ("t1", sourced_id))
        assert enrollment is not None
        if status is not None:
            enrollment.status = status
        if begin_date is not None:
            enrollment.begin_date = begin_date
        if end_date is not None:
            enrollment.end_date = end_date
        await session.commit()


async def add_enrollment(apps: Apps, class_id: str, user_id: str, role: str, **fields: Any) -> None:
    """Insert one enrollment of tenant t1."""
    async with apps.profile.state.sessionmaker() as session:
        session.add(
            Enrollment(
                tenant_id="t1",
                sourced_id=f"{class_id}-{user_id}-extra",
                class_sourced_id=class_id,
                user_sourced_id=user_id,
                role=role,
                **fields,
            )
        )
        await session.commit()


class TestCreateLearner:
    async def test_an_admin_adds_a_learner_and_gets_it_back_in_camel_case(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = new_learner(email="nora@example.org", username="nora", grades=["03"], primaryOrgSourcedId="s1")
        response = await profile.post("/learners", json=body, headers=tokens.headers("admin", "admin"))

        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {
            "sourcedId",
            "status",
            "dateLastModified",
            "givenName",
            "familyName",
            "email",
            "username",
            "grades",
            "primaryOrgSourcedId",
        }
        assert created | {"dateLastModified": None} == {
            "sourcedId": "l-new",
            "status": "active",
            "dateLastModified": None,
            "givenName": "Nora",
            "familyName": "New",
            "email": "nora@example.org",
            "username": "nora",
            "grades": ["03"],
            "primaryOrgSourcedId": "s1",
        }
        stored = await stored_user(apps, "t1", "l-new")
        assert stored is not None
        assert (stored.role, stored.given_name, stored.primary_org_sourced_id) == ("student", "Nora", "s1")

    async def test_a_partner_with_the_roster_write_scope_adds_a_learner(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        sis = tokens.headers("sis", "partner", scopes=(ROSTER_WRITE,))
        response = await profile.post("/learners", json=new_learner(), headers=sis)

        assert response.status_code == 201, response.text
        assert response.json()["sourcedId"] == "l-new"
        assert await stored_user(apps, "t1", "l-new") is not None

    async def test_the_learner_lands_in_the_callers_tenant_only(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        response = await profile.post("/learners", json=new_learner(), headers=tokens.headers("admin", "admin"))

        assert response.status_code == 201, response.text
        assert await stored_user(apps, "t1", "l-new") is not None
        assert await stored_user(apps, "t2", "l-new") is None

    async def test_writes_a_user_upserted_event_to_the_outbox(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post("/learners", json=new_learner(), headers=tokens.headers("admin", "admin"))
        assert response.status_code == 201, response.text

        events = await outbox_events(apps, "roster.user.upserted")
        assert len(events) == 1
        event = events[0]
        assert (event["tenant_id"], event["subject_id"], event["published_at"]) == ("t1", "l-new", None)
        assert event["data"] == {"sourcedId": "l-new", "role": "student", "status": "active"}

    async def test_a_refused_create_leaves_neither_learner_nor_event(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        admin = tokens.headers("admin", "admin")
        first = await profile.post("/learners", json=new_learner(givenName="First"), headers=admin)
        assert first.status_code == 201, first.text

        again = await profile.post("/learners", json=new_learner(givenName="Second"), headers=admin)
        orphan = await profile.post(
            "/learners", json=new_learner("l-orphan", primaryOrgSourcedId="nowhere"), headers=admin
        )

        assert (again.status_code, orphan.status_code) == (409, 404)
        assert [e["subject_id"] for e in await outbox_events(apps, "roster.user.upserted")] == ["l-new"]
        stored = await stored_user(apps, "t1", "l-new")
        assert stored is not None
        assert stored.given_name == "First"
        assert await stored_user(apps, "t1", "l-orphan") is None

    async def test_a_teacher_may_not_add_learners(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post("/learners", json=new_learner(), headers=tokens.headers("t-a", "teacher"))

        problem(response, 403)
        assert await stored_user(apps, "t1", "l-new") is None
        assert await outbox_events(apps, "roster.user.upserted") == []

    async def test_a_partner_without_the_write_scope_may_not_add_learners(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        reader = tokens.headers("sis", "partner", scopes=(ROSTER_READ,))
        response = await profile.post("/learners", json=new_learner(), headers=reader)

        problem(response, 403)
        assert await stored_user(apps, "t1", "l-new") is None

    async def test_the_write_scope_without_the_partner_role_does_not_let_a_learner_add_learners(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # The documented rule is "admins, and partners with the roster write scope".
        await make_roster(apps.profile, "t1")
        learner = tokens.headers("l-a1", "learner", scopes=(ROSTER_WRITE,))
        response = await profile.post("/learners", json=new_learner(), headers=learner)

        problem(response, 403)
        assert await stored_user(apps, "t1", "l-new") is None

    async def test_a_duplicate_sourced_id_is_a_conflict(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post("/learners", json=new_learner("l-a1"), headers=tokens.headers("admin", "admin"))

        body = problem(response, 409)
        assert body["field"] == "sourcedId"

    async def test_the_sourced_id_of_an_existing_teacher_is_a_conflict(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post("/learners", json=new_learner("t-a"), headers=tokens.headers("admin", "admin"))

        problem(response, 409)
        stored = await stored_user(apps, "t1", "t-a")
        assert stored is not None
        assert stored.role == "teacher"

    async def test_two_simultaneous_creates_of_one_sourced_id_give_one_created_and_one_conflict(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # A race, so it is run for several ids: each pair must end as one 201 and one 409, never a 500.
        await make_roster(apps.profile, "t1")
        admin = tokens.headers("admin", "admin")
        outcomes = []
        for n in range(5):
            pair = await asyncio.gather(
                *(profile.post("/learners", json=new_learner(f"l-race-{n}"), headers=admin) for _ in range(2))
            )
            outcomes.append(sorted(r.status_code for r in pair))

        assert outcomes == [[201, 409]] * 5

    @pytest.mark.parametrize("sourced_id", ["", "-leading-dash", "has space", "slash/inside", "x" * 256])
    async def test_a_malformed_sourced_id_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, sourced_id: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post(
            "/learners", json=new_learner(sourced_id), headers=tokens.headers("admin", "admin")
        )

        assert invalid_fields(response) == ["sourcedId"]

    async def test_a_missing_given_name_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = new_learner()
        del body["givenName"]
        response = await profile.post("/learners", json=body, headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["givenName"]

    async def test_an_empty_given_name_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post(
            "/learners", json=new_learner(givenName=""), headers=tokens.headers("admin", "admin")
        )

        assert invalid_fields(response) == ["givenName"]

    async def test_an_unknown_field_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = new_learner(nickname="Nono")
        response = await profile.post("/learners", json=body, headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["nickname"]

    @pytest.mark.parametrize("email", ["not-an-email", "two@@example.org", "space in@example.org"])
    async def test_a_malformed_email_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, email: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post(
            "/learners", json=new_learner(email=email), headers=tokens.headers("admin", "admin")
        )

        assert invalid_fields(response) == ["email"]

    async def test_an_unknown_primary_org_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = new_learner(primaryOrgSourcedId="s9")
        response = await profile.post("/learners", json=body, headers=tokens.headers("admin", "admin"))

        assert problem(response, 404)["field"] == "primaryOrgSourcedId"
        assert await stored_user(apps, "t1", "l-new") is None

    async def test_a_school_of_another_tenant_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = new_learner(primaryOrgSourcedId="s1")
        response = await profile.post("/learners", json=body, headers=tokens.headers("admin", "admin", tenant="t2"))

        assert problem(response, 404)["field"] == "primaryOrgSourcedId"
        assert await stored_user(apps, "t2", "l-new") is None

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.post("/learners", json=new_learner(), headers=unauthenticated)

        problem(response, 401)
        assert response.headers["www-authenticate"] == "Bearer"
        assert await stored_user(apps, "t1", "l-new") is None


class TestListLearners:
    async def test_a_teacher_sees_exactly_the_learners_of_their_class(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=tokens.headers("t-a", "teacher"))

        assert sourced_ids(response) == ["l-a1", "l-a2"]
        assert response.headers["x-total-count"] == "2"

    async def test_an_admin_sees_every_learner_of_the_tenant_and_no_one_else(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=tokens.headers("admin", "admin"))

        assert sourced_ids(response) == ["l-a1", "l-a2", "l-b1"]
        assert response.headers["x-total-count"] == "3"

    async def test_a_guardian_sees_their_linked_learner(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=tokens.headers("g-a1", "guardian"))

        assert sourced_ids(response) == ["l-a1"]

    async def test_a_learner_sees_only_themselves(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=tokens.headers("l-a2", "learner"))

        assert sourced_ids(response) == ["l-a2"]

    async def test_a_partner_without_a_roster_read_scope_sees_no_one(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=tokens.headers("lms", "partner"))

        assert sourced_ids(response) == []
        assert response.headers["x-total-count"] == "0"

    async def test_another_tenants_admin_sees_none_of_this_tenants_learners(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        admin, other_admin = tokens.headers("admin", "admin"), tokens.headers("admin", "admin", tenant="t2")
        for headers, learner in ((admin, "l-t1"), (other_admin, "l-t2")):
            body = new_learner(learner, primaryOrgSourcedId="s1")
            created = await profile.post("/learners", json=body, headers=headers)
            assert created.status_code == 201, created.text

        response = await profile.get("/learners", headers=other_admin)

        assert sourced_ids(response) == ["l-a1", "l-a2", "l-b1", "l-t2"]
        assert response.headers["x-total-count"] == "4"

    async def test_a_school_admin_sees_the_learners_of_their_school_only(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        async with apps.profile.state.sessionmaker() as session:
            session.add(
                RosterUser(
                    tenant_id="t1",
                    sourced_id="principal-s2",
                    role="principal",
                    given_name="P",
                    family_name="S",
                    primary_org_sourced_id="s2",
                )
            )
            await session.commit()

        response = await profile.get("/learners", headers=tokens.headers("principal-s2", "admin"))

        assert sourced_ids(response) == ["l-b1"]

    async def test_an_admin_the_roster_does_not_know_sees_no_one(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await profile.get("/learners", headers=tokens.headers("stranger", "admin"))

        assert sourced_ids(response) == []

    async def test_a_learner_marked_to_be_deleted_is_seen_by_no_one(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        async with apps.profile.state.sessionmaker() as session:
            learner = await session.get(RosterUser, ("t1", "l-a1"))
            assert learner is not None
            learner.status = "tobedeleted"
            await session.commit()

        for headers in (tokens.headers("admin", "admin"), tokens.headers("t-a", "teacher")):
            response = await profile.get("/learners", headers=headers)
            assert "l-a1" not in sourced_ids(response)

    async def test_a_page_of_one_carries_the_total_and_links_to_the_next_and_last_pages(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", params={"limit": 1}, headers=tokens.headers("t-a", "teacher"))

        assert sourced_ids(response) == ["l-a1"]
        assert response.headers["x-total-count"] == "2"
        found = links(response)
        assert found["next"] == {"limit": ["1"], "offset": ["1"]}
        assert found["last"] == {"limit": ["1"], "offset": ["1"]}
        assert found["first"] == {"limit": ["1"], "offset": ["0"]}
        assert "prev" not in found

    async def test_the_last_page_links_back_and_not_forward(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        params = {"limit": 2, "offset": 2}
        response = await profile.get("/learners", params=params, headers=tokens.headers("admin", "admin"))

        assert sourced_ids(response) == ["l-b1"]
        found = links(response)
        assert found["prev"] == {"limit": ["2"], "offset": ["0"]}
        assert found["last"] == {"limit": ["2"], "offset": ["2"]}
        assert "next" not in found

    @pytest.mark.parametrize("limit", [0, 10_001, -1])
    async def test_a_limit_out_of_range_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, limit: int
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", params={"limit": limit}, headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["limit"]

    async def test_a_negative_offset_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", params={"offset": -1}, headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["offset"]

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners", headers=unauthenticated)

        problem(response, 401)


class TestGetLearner:
    async def test_a_teacher_reads_a_learner_of_their_class(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-a", "teacher"))

        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["sourcedId"], body["givenName"], body["familyName"]) == ("l-a1", "L-A1", "Test")
        assert body["primaryOrgSourcedId"] == "s1"

    async def test_a_teacher_of_another_school_gets_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-b", "teacher"))

        problem(response, 404)

    async def test_a_user_who_is_not_a_learner_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/t-b", headers=tokens.headers("admin", "admin"))

        problem(response, 404)

    async def test_a_learner_reads_themselves(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("l-a1", "learner"))

        assert response.status_code == 200, response.text
        assert response.json()["sourcedId"] == "l-a1"

    async def test_a_learner_gets_not_found_for_a_classmate(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a2", headers=tokens.headers("l-a1", "learner"))

        problem(response, 404)

    async def test_a_guardian_reads_their_linked_learner(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("g-a1", "guardian"))

        assert response.status_code == 200, response.text
        assert response.json()["sourcedId"] == "l-a1"

    async def test_a_guardian_gets_not_found_for_a_learner_they_are_not_linked_to(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a2", headers=tokens.headers("g-a1", "guardian"))

        problem(response, 404)

    async def test_an_admin_of_another_tenant_gets_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("admin", "admin", tenant="t2"))

        problem(response, 404)

    async def test_a_partner_without_a_roster_read_scope_gets_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=tokens.headers("lms", "partner"))

        problem(response, 404)

    async def test_a_partner_with_the_roster_read_scope_reads_any_learner_of_the_tenant(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-b1", headers=tokens.headers("lms", "partner", scopes=(ROSTER_READ,)))

        assert response.status_code == 200, response.text
        assert response.json()["sourcedId"] == "l-b1"

    async def test_a_learner_whose_enrollment_is_to_be_deleted_is_no_longer_visible_to_the_teacher(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await change_enrollment(apps, "c-a-l-a1", status="tobedeleted")

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-a", "teacher"))

        problem(response, 404)

    async def test_a_learner_whose_enrollment_ended_is_no_longer_visible_to_the_teacher(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await change_enrollment(apps, "c-a-l-a1", end_date=LONG_AGO)

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-a", "teacher"))

        problem(response, 404)

    async def test_a_teacher_whose_own_enrollment_ended_no_longer_sees_the_class(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await change_enrollment(apps, "c-a-t-a", end_date=LONG_AGO)

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-a", "teacher"))

        problem(response, 404)

    async def test_a_teacher_whose_own_enrollment_is_to_be_deleted_no_longer_sees_the_class(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await change_enrollment(apps, "c-a-t-a", status="tobedeleted")

        response = await profile.get("/learners", headers=tokens.headers("t-a", "teacher"))

        assert sourced_ids(response) == []

    async def test_an_enrollment_that_has_not_begun_grants_nothing_yet(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await add_enrollment(apps, "c-a", "t-b", "teacher", begin_date=FAR_AHEAD)

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-b", "teacher"))

        problem(response, 404)

    async def test_a_new_active_enrollment_grants_the_teacher_access(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await add_enrollment(apps, "c-a", "t-b", "teacher", begin_date=LONG_AGO, end_date=FAR_AHEAD)

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-b", "teacher"))

        assert response.status_code == 200, response.text

    async def test_a_teacher_enrolled_as_a_student_does_not_see_the_classmates(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await add_enrollment(apps, "c-a", "t-b", "student")

        response = await profile.get("/learners/l-a1", headers=tokens.headers("t-b", "teacher"))

        problem(response, 404)

    async def test_a_malformed_learner_id_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/-bad id", headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["learner_id"]

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/learners/l-a1", headers=unauthenticated)

        problem(response, 401)


class TestLearnerRelation:
    @pytest.mark.parametrize(
        ("sub", "roles", "scopes", "learner", "relation"),
        [
            ("l-a1", ("learner",), (), "l-a1", "self"),
            ("t-a", ("teacher",), (), "l-a2", "teacher"),
            ("g-a1", ("guardian",), (), "l-a1", "guardian"),
            ("admin", ("admin",), (), "l-b1", "admin"),
            ("lms", ("partner",), (ROSTER_READ,), "l-b1", "partner"),
        ],
        ids=["self", "teacher", "guardian", "admin", "partner"],
    )
    async def test_names_why_the_caller_may_read_the_learner(
        self,
        apps: Apps,
        profile: httpx.AsyncClient,
        tokens: TokenFactory,
        sub: str,
        roles: tuple[str, ...],
        scopes: tuple[str, ...],
        learner: str,
        relation: str,
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get(f"/authz/learners/{learner}", headers=tokens.headers(sub, *roles, scopes=scopes))

        assert response.status_code == 200, response.text
        assert response.json() == {"learnerSourcedId": learner, "relation": relation}

    async def test_a_guardian_who_also_teaches_the_learner_is_related_as_teacher_to_an_unlinked_one(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/authz/learners/l-a2", headers=tokens.headers("t-a", "teacher", "guardian"))

        assert response.status_code == 200, response.text
        assert response.json()["relation"] == "teacher"

    @pytest.mark.parametrize(
        ("sub", "roles", "tenant", "learner"),
        [
            ("t-b", ("teacher",), "t1", "l-a1"),
            ("l-a1", ("learner",), "t1", "l-a2"),
            ("g-a1", ("guardian",), "t1", "l-a2"),
            ("lms", ("partner",), "t1", "l-a1"),
            ("admin", ("admin",), "t2", "l-a1"),
            ("admin", ("admin",), "t1", "no-such-learner"),
        ],
        ids=["other-school-teacher", "classmate", "unlinked-guardian", "unscoped-partner", "other-tenant", "unknown"],
    )
    async def test_is_not_found_when_there_is_no_relation(
        self,
        apps: Apps,
        profile: httpx.AsyncClient,
        tokens: TokenFactory,
        sub: str,
        roles: tuple[str, ...],
        tenant: str,
        learner: str,
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get(f"/authz/learners/{learner}", headers=tokens.headers(sub, *roles, tenant=tenant))

        problem(response, 404)

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await profile.get("/authz/learners/l-a1", headers=unauthenticated)

        problem(response, 401)


class TestLearnerRelations:
    @pytest.mark.parametrize(
        ("sub", "roles", "scopes", "expected"),
        [
            ("t-a", ("teacher",), (), [("l-a1", "teacher"), ("l-a2", "teacher")]),
            ("g-a1", ("guardian",), (), [("l-a1", "guardian")]),
            ("l-a2", ("learner",), (), [("l-a2", "self")]),
            ("admin", ("admin",), (), [("l-a1", "admin"), ("l-a2", "admin"), ("l-b1", "admin")]),
            ("lms", ("partner",), (ROSTER_READ,), [("l-a1", "partner"), ("l-a2", "partner"), ("l-b1", "partner")]),
            ("lms", ("partner",), (), []),
            ("t-b", ("teacher", "guardian"), (), [("l-b1", "teacher")]),
        ],
        ids=["teacher", "guardian", "learner", "admin", "partner", "partner-without-scope", "teacher-of-other-class"],
    )
    async def test_lists_every_readable_learner_with_the_relation(
        self,
        apps: Apps,
        profile: httpx.AsyncClient,
        tokens: TokenFactory,
        sub: str,
        roles: tuple[str, ...],
        scopes: tuple[str, ...],
        expected: list[tuple[str, str]],
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")

        response = await profile.get("/authz/learners", headers=tokens.headers(sub, *roles, scopes=scopes))

        assert response.status_code == 200, response.text
        assert [(r["learnerSourcedId"], r["relation"]) for r in response.json()] == expected
        assert response.headers["x-total-count"] == str(len(expected))

    async def test_pages_carry_links(self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        await make_roster(apps.profile, "t1")

        response = await profile.get("/authz/learners?limit=1&offset=1", headers=tokens.headers("admin", "admin"))

        assert [r["learnerSourcedId"] for r in response.json()] == ["l-a2"]
        assert 'rel="next"' in response.headers["link"]
        assert 'rel="prev"' in response.headers["link"]

    async def test_a_bad_limit_is_refused_naming_it(self, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await profile.get("/authz/learners?limit=0", headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["limit"]

    async def test_an_unauthenticated_caller_is_refused(
        self, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await profile.get("/authz/learners", headers=unauthenticated)

        problem(response, 401)
