"""The profile service's answers to the other services: learners by email (for the LRS's `mbox` actors)
and a class's learners (for the progress service's class matrix).

Roster (per tenant, from `tests.factories`): district `d` with schools `s1`, `s2`; teacher `t-a`
teaches class `c-a` (school `s1`, learners `l-a1`, `l-a2`); teacher `t-b` teaches `c-b` (school
`s2`, learner `l-b1`); guardian `g-a1` of `l-a1`; admin `admin` of the district.
"""

from datetime import date
from typing import Any

import httpx
import pytest

from services.profile_service.models import Enrollment, RosterUser
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.tokens import TokenFactory

EMAILS = {"l-a1": "Ann.Lee@Example.org", "l-a2": "bo@example.org", "l-b1": "cy@example.org", "t-a": "t-a@example.org"}
ROSTER_READ = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"


async def give_emails(apps: Apps, tenant: str = "t1", emails: dict[str, str] = EMAILS) -> None:
    """Set the roster users' email addresses, as a roster sync would."""
    async with apps.profile.state.sessionmaker() as session:
        for sourced_id, email in emails.items():
            user = await session.get(RosterUser, (tenant, sourced_id))
            assert user is not None
            user.email = email
        await session.commit()


async def edit_row(apps: Apps, model: type[RosterUser] | type[Enrollment], key: tuple[str, str], **fields: Any) -> None:
    """Change fields of one profile row in place."""
    async with apps.profile.state.sessionmaker() as session:
        row = await session.get(model, key)
        assert row is not None
        for name, value in fields.items():
            setattr(row, name, value)
        await session.commit()


def partner(tokens: TokenFactory, tenant: str = "t1") -> dict[str, str]:
    """Headers of the `lms` API client (no roster scope: recording evidence needs none)."""
    return tokens.headers("lms", "partner", tenant=tenant, scopes=("statements/write",))


async def lookup(profile: httpx.AsyncClient, headers: dict[str, str], emails: Any) -> httpx.Response:
    """POST /authz/learners/lookup."""
    return await profile.post("/authz/learners/lookup", json={"emails": emails}, headers=headers)


def found(response: httpx.Response) -> dict[str, str]:
    """The `learners` of a 200 lookup answer."""
    assert response.status_code == 200, response.text
    learners: dict[str, str] = response.json()["learners"]
    return learners


class TestLearnerLookup:
    async def test_resolves_learners_case_insensitively_by_the_address_sent(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)

        response = await lookup(
            profile, partner(tokens), ["ann.lee@example.org", "BO@EXAMPLE.ORG", "nobody@example.org"]
        )

        assert response.json() == {"learners": {"ann.lee@example.org": "l-a1", "BO@EXAMPLE.ORG": "l-a2"}}

    async def test_users_who_are_not_learners_are_left_out(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)

        assert found(await lookup(profile, partner(tokens), ["t-a@example.org"])) == {}

    async def test_learners_marked_for_deletion_are_left_out(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)
        await edit_row(apps, RosterUser, ("t1", "l-a2"), status="tobedeleted")

        assert found(await lookup(profile, partner(tokens), ["bo@example.org", "cy@example.org"])) == {
            "cy@example.org": "l-b1"
        }

    async def test_an_empty_list_finds_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert found(await lookup(profile, partner(tokens), [])) == {}

    async def test_two_spellings_of_one_address_are_both_answered(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)

        response = await lookup(profile, partner(tokens), ["bo@example.org", "Bo@Example.org"])

        assert found(response) == {"bo@example.org": "l-a2", "Bo@Example.org": "l-a2"}

    async def test_a_thousand_addresses_are_accepted(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)
        emails = [f"x{i}@example.org" for i in range(999)] + ["cy@example.org"]

        assert found(await lookup(profile, partner(tokens), emails)) == {"cy@example.org": "l-b1"}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"emails": [f"x{i}@example.org" for i in range(1001)]}, "emails"),
            ({"emails": "bo@example.org"}, "emails"),
            ({}, "emails"),
        ],
    )
    async def test_a_bad_body_is_422_naming_the_field(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, body: dict[str, Any], field: str
    ) -> None:
        response = await profile.post("/authz/learners/lookup", json=body, headers=partner(tokens))

        assert invalid_fields(response) == [field]

    async def test_another_tenants_learners_are_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await give_emails(apps, "t1")

        assert found(await lookup(profile, partner(tokens, "t2"), ["bo@example.org"])) == {}
        assert found(await lookup(profile, partner(tokens, "t1"), ["bo@example.org"])) == {"bo@example.org": "l-a2"}

    @pytest.mark.parametrize(
        ("sub", "role"), [("t-a", "teacher"), ("admin", "admin"), ("l-a2", "learner"), ("g-a1", "guardian")]
    )
    async def test_only_api_clients_may_look_up(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_emails(apps)

        problem(await lookup(profile, tokens.headers(sub, role), ["bo@example.org"]), 403)

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await lookup(profile, unauthenticated, ["bo@example.org"]), 401)


async def class_learners(profile: httpx.AsyncClient, headers: dict[str, str], class_id: str = "c-a") -> httpx.Response:
    """GET /authz/classes/{class_id}/learners."""
    return await profile.get(f"/authz/classes/{class_id}/learners", headers=headers)


class TestClassLearners:
    @pytest.mark.parametrize(
        ("sub", "role", "scopes"),
        [("t-a", "teacher", ()), ("admin", "admin", ()), ("lms", "partner", (ROSTER_READ,))],
    )
    async def test_the_teacher_the_admin_and_a_roster_reader_get_every_active_learner(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str, scopes: tuple[str]
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await class_learners(profile, tokens.headers(sub, role, scopes=scopes))

        assert response.status_code == 200, response.text
        assert response.json() == ["l-a1", "l-a2"]

    @pytest.mark.parametrize(("sub", "role"), [("g-a1", "guardian"), ("l-a2", "learner")])
    async def test_others_of_the_class_get_only_the_learners_they_may_read(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")

        response = await class_learners(profile, tokens.headers(sub, role))

        assert response.json() == [{"g-a1": "l-a1", "l-a2": "l-a2"}[sub]]

    @pytest.mark.parametrize(
        "fields",
        [{"status": "tobedeleted"}, {"end_date": date(2000, 1, 1)}, {"begin_date": date(2999, 1, 1)}],
    )
    async def test_learners_not_actively_enrolled_are_left_out(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory, fields: dict[str, Any]
    ) -> None:
        await make_roster(apps.profile, "t1")
        await edit_row(apps, Enrollment, ("t1", "c-a-l-a1"), **fields)

        assert (await class_learners(profile, tokens.headers("t-a", "teacher"))).json() == ["l-a2"]

    async def test_a_learner_marked_for_deletion_is_left_out(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await edit_row(apps, RosterUser, ("t1", "l-a1"), status="tobedeleted")

        assert (await class_learners(profile, tokens.headers("t-a", "teacher"))).json() == ["l-a2"]

    async def test_a_teacher_no_longer_teaching_the_class_gets_404(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await edit_row(apps, Enrollment, ("t1", "c-a-t-a"), status="tobedeleted")

        problem(await class_learners(profile, tokens.headers("t-a", "teacher")), 404)

    async def test_a_teacher_of_another_school_gets_404(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        problem(await class_learners(profile, tokens.headers("t-b", "teacher")), 404)

    async def test_an_admin_of_another_school_gets_404(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        async with apps.profile.state.sessionmaker() as session:
            session.add(
                RosterUser(
                    tenant_id="t1",
                    sourced_id="admin-s2",
                    role="administrator",
                    given_name="Admin",
                    family_name="S2",
                    primary_org_sourced_id="s2",
                )
            )
            await session.commit()

        problem(await class_learners(profile, tokens.headers("admin-s2", "admin")), 404)
        assert (await class_learners(profile, tokens.headers("admin-s2", "admin"), "c-b")).json() == ["l-b1"]

    async def test_an_unknown_class_is_404(self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory) -> None:
        await make_roster(apps.profile, "t1")

        problem(await class_learners(profile, tokens.headers("admin", "admin"), "c-zz"), 404)

    async def test_a_malformed_class_id_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await class_learners(profile, tokens.headers("admin", "admin"), "-c")

        assert invalid_fields(response) == ["class_id"]

    async def test_another_tenant_gets_its_own_class_of_the_same_id(
        self, apps: Apps, profile: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        problem(await class_learners(profile, tokens.headers("admin", "admin", tenant="t2")), 404)
        await make_roster(apps.profile, "t2")
        await edit_row(apps, Enrollment, ("t2", "c-a-l-a2"), status="tobedeleted")
        assert (await class_learners(profile, tokens.headers("admin", "admin", tenant="t2"))).json() == ["l-a1"]

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await class_learners(profile, unauthenticated), 401)
