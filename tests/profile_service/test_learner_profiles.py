"""Learner profiles: who may read and change which field, sharing, COPPA consent, history, ETags, events.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches class `c-a` (learners `l-a1`,
`l-a2`); teacher `t-b` teaches `c-b` (learner `l-b1`); guardian `g-a1` of `l-a1`; admin `admin`.
The factory's learners have no grades and no birth date, so they count as under 13 (fail safe):
`roster()` makes them ninth-graders unless a test is about consent.
"""

import asyncio
from datetime import UTC, date, datetime
from typing import Any, get_args
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from kit.auth import Principal
from services.profile_service import learner_profile_rules as rules
from services.profile_service import learner_profiles
from services.profile_service.db import outbox
from services.profile_service.learner_profile_schemas import LearnerProfilePatch
from services.profile_service.models import (
    Demographics,
    Enrollment,
    LearnerProfile,
    LearnerProfileChange,
    RosterUser,
)
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.tokens import TokenFactory

ROSTER_READ = "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly"
PROFILE = "/learners/l-a1/profile"
HISTORY = "/learners/l-a1/profile/history"
ALL_FIELDS = {
    "learnerSourcedId",
    "version",
    "consentRequired",
    "guardianConsent",
    "goals",
    "interests",
    "strengths",
    "needs",
    "accommodations",
    "preferredModalities",
    "language",
    "weeklyTimeBudgetMinutes",
    "sharing",
    "lastChanges",
}
TEACHER_FIELDS = ALL_FIELDS - {"sharing"}
GUARDIAN_DEFAULT_FIELDS = {
    "learnerSourcedId",
    "version",
    "consentRequired",
    "guardianConsent",
    "goals",
    "interests",
    "strengths",
    "preferredModalities",
    "lastChanges",
}


def today() -> date:
    """Today in UTC, as the service reckons ages."""
    return datetime.now(UTC).date()


def years_ago(years: int, days_later: int = 0) -> date:
    """The date `years` before today (28 February for a 29 February), plus `days_later` days."""
    now = today()
    try:
        then = now.replace(year=now.year - years)
    except ValueError:
        then = now.replace(year=now.year - years, day=28)
    return date.fromordinal(then.toordinal() + days_later)


async def set_grades(apps: Apps, grades: list[str], *learners: str, tenant: str = "t1") -> None:
    """Set the roster grades of `learners`."""
    async with apps.profile.state.sessionmaker() as session:
        for learner_id in learners:
            user = await session.get(RosterUser, (tenant, learner_id))
            assert user is not None
            user.grades = grades
        await session.commit()


async def add_birth_date(apps: Apps, learner_id: str, birth_date: date | None, *, tenant: str = "t1") -> None:
    """Add a demographics row with `birth_date` for `learner_id`."""
    async with apps.profile.state.sessionmaker() as session:
        session.add(Demographics(tenant_id=tenant, sourced_id=learner_id, birth_date=birth_date))
        await session.commit()


async def roster(apps: Apps, *tenants: str, teens: bool = True) -> None:
    """The small roster of each tenant; its learners in grade 09 (13 or over) unless `teens` is off."""
    await make_roster(apps.profile, *tenants)
    if teens:
        for tenant in tenants:
            await set_grades(apps, ["09"], "l-a1", "l-a2", "l-b1", tenant=tenant)


async def outbox_events(apps: Apps, event_type: str = "profile.updated") -> list[dict[str, Any]]:
    """The profile outbox rows of `event_type`, oldest first."""
    async with apps.profile.state.engine.connect() as conn:
        query = sa.select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.seq)
        return [dict(row._mapping) for row in await conn.execute(query)]


async def stored_profile(apps: Apps, learner_id: str = "l-a1", tenant: str = "t1") -> LearnerProfile | None:
    """The profile row, read straight from the database."""
    async with apps.profile.state.sessionmaker() as session:
        row: LearnerProfile | None = await session.get(LearnerProfile, (tenant, learner_id))
        return row


async def stored_changes(apps: Apps, learner_id: str = "l-a1") -> list[LearnerProfileChange]:
    """Every history row of the learner in tenant t1, oldest first."""
    async with apps.profile.state.sessionmaker() as session:
        query = (
            select(LearnerProfileChange)
            .where(col(LearnerProfileChange.learner_sourced_id) == learner_id)
            .order_by(col(LearnerProfileChange.id))
        )
        return list(await session.exec(query))


def ok(response: httpx.Response) -> dict[str, Any]:
    """The JSON body of a 200 response."""
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ok_list(response: httpx.Response) -> list[dict[str, Any]]:
    """The JSON list of a 200 response."""
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def links(response: httpx.Response) -> dict[str, dict[str, list[str]]]:
    """The `Link` header as {rel: query parameters of the target}."""
    found: dict[str, dict[str, list[str]]] = {}
    for part in response.headers["link"].split(","):
        target, _, rel = part.partition(";")
        found[rel.strip().removeprefix("rel=").strip('"')] = parse_qs(urlsplit(target.strip().strip("<>")).query)
    return found


class Callers:
    """Bearer headers of the roster's people in tenant t1."""

    def __init__(self, tokens: TokenFactory) -> None:
        self.learner = tokens.headers("l-a1", "learner")
        self.classmate = tokens.headers("l-a2", "learner")
        self.teacher = tokens.headers("t-a", "teacher")
        self.other_teacher = tokens.headers("t-b", "teacher")
        self.guardian = tokens.headers("g-a1", "guardian")
        self.admin = tokens.headers("admin", "admin")
        self.partner = tokens.headers("sis", "partner", scopes=(ROSTER_READ,))
        self.other_tenant_admin = tokens.headers("admin", "admin", tenant="t2")


@pytest.fixture
def who(tokens: TokenFactory) -> Callers:
    """The callers of these tests."""
    return Callers(tokens)


class TestLearnerProfileRules:
    @pytest.mark.parametrize(
        ("birth_date", "under_13"),
        [
            (years_ago(13), False),
            (years_ago(13, days_later=1), True),
            (years_ago(5), True),
            (years_ago(40), False),
        ],
        ids=["13th-birthday-today", "13-tomorrow", "five", "adult"],
    )
    def test_a_birth_date_decides(self, birth_date: date, under_13: bool) -> None:
        assert rules.is_under_13(birth_date, ["12"], today()) is under_13

    def test_a_29_february_birthday_comes_on_1_march(self) -> None:
        born = date(2012, 2, 29)
        assert rules.is_under_13(born, [], date(2025, 2, 28)) is True
        assert rules.is_under_13(born, [], date(2025, 3, 1)) is False

    @pytest.mark.parametrize(
        ("grades", "under_13"),
        [
            (["PK"], True),
            (["KG"], True),
            (["07"], True),
            (["7"], True),
            (["08"], False),
            (["12", "11"], False),
            (["07", "08"], True),
            (["UG"], True),
            ([], True),
        ],
        ids=["PK", "KG", "07", "unpadded-7", "08", "12-and-11", "mixed", "ungraded", "none"],
    )
    def test_without_a_birth_date_grades_decide_and_doubt_means_under_13(
        self, grades: list[str], under_13: bool
    ) -> None:
        assert rules.is_under_13(None, grades, today()) is under_13

    def test_the_sharing_groups_and_their_names_agree(self) -> None:
        assert tuple(rules.SHARING_GROUPS) == get_args(rules.SharingGroup)
        grouped = [field for fields in rules.SHARING_GROUPS.values() for field in fields]
        assert sorted(grouped) == sorted(set(rules.CONSENTED_FIELDS) - {rules.SHARING})

    def test_teachers_always_see_what_instruction_needs(self) -> None:
        sharing = rules.normalize_sharing(guardians=[], teachers=[])
        readable = rules.readable_fields("teacher", sharing, under_13=False)

        assert sharing["teachers"] == ["goals", "strengths", "modalities", "preferences", "support"]
        assert {"needs", "accommodations", "goals", "strengths"} <= readable
        assert "interests" not in readable
        assert "sharing" not in readable

    def test_guardians_see_goals_interests_strengths_and_modalities_by_default(self) -> None:
        readable = rules.readable_fields("guardian", rules.default_sharing(), under_13=False)

        assert readable == {"goals", "interests", "strengths", "preferredModalities", "guardianConsent"}

    def test_the_guardian_of_a_child_under_13_sees_what_the_child_told_us(self) -> None:
        sharing = rules.normalize_sharing(guardians=[], teachers=[])
        readable = rules.readable_fields("guardian", sharing, under_13=True)

        assert {"goals", "interests", "strengths", "preferredModalities", "language"} <= readable
        assert "needs" not in readable

    def test_partners_read_nothing(self) -> None:
        assert rules.readable_fields("partner", rules.default_sharing(), under_13=False) == frozenset()

    @pytest.mark.parametrize(
        ("relation", "fields", "forbidden"),
        [
            ("self", ["interests", "accommodations", "needs"], ["needs", "accommodations"]),
            ("teacher", ["needs", "interests", "goals"], ["interests"]),
            ("guardian", ["guardianConsent", "needs"], ["needs"]),
            ("admin", ["guardianConsent"], []),
            ("partner", ["interests"], ["interests"]),
        ],
    )
    def test_forbidden_fields_are_named_in_profile_order(
        self, relation: rules.Relation, fields: list[str], forbidden: list[str]
    ) -> None:
        assert rules.forbidden_fields(relation, fields) == forbidden

    @pytest.mark.parametrize(
        "tag", ["en", "es-MX", "zh-Hant-TW", "sr-Latn-RS", "es-419", "de-CH-1996", "en-US-u-ca-gregory", "x-klingon"]
    )
    def test_well_formed_language_tags_pass(self, tag: str) -> None:
        assert rules.is_language_tag(tag)

    @pytest.mark.parametrize("tag", ["", "e", "english", "en_US", "en-", "-en", "en--US", "12", "en-US-x", "a" * 65])
    def test_malformed_language_tags_fail(self, tag: str) -> None:
        assert not rules.is_language_tag(tag)

    @pytest.mark.parametrize(
        ("tag", "canonical"),
        [("EN-us", "en-US"), ("zh-hant-tw", "zh-Hant-TW"), ("en-US-X-Twain", "en-US-x-twain"), ("ES-419", "es-419")],
    )
    def test_tags_take_the_conventional_case(self, tag: str, canonical: str) -> None:
        assert rules.canonical_case(tag) == canonical

    @pytest.mark.parametrize(
        ("header", "allowed"),
        [('"3"', True), ('W/"3"', True), ('"2", "3"', True), ("*", True), ('"2"', False), ('"abc"', False)],
    )
    def test_if_match_compares_versions(self, header: str, allowed: bool) -> None:
        assert rules.if_match_allows(header, 3) is allowed

    @pytest.mark.parametrize("header", ["3", '"3', "W/3", '"3",, "4"'])
    def test_a_malformed_if_match_is_an_error(self, header: str) -> None:
        with pytest.raises(ValueError, match="entity tag"):
            rules.if_match_allows(header, 3)


def goal(goal_id: str, set_by: str, text: str = "Learn fractions", **fields: Any) -> dict[str, Any]:
    """A stored goal."""
    return {
        "id": goal_id,
        "text": text,
        "targetCompetencyIds": [],
        "targetDate": None,
        "setBy": set_by,
        "status": "active",
    } | fields


class TestMergeGoals:
    stored = (goal("g-l", "learner"), goal("g-t", "teacher", "Read daily"))

    def test_a_new_goal_gets_an_id_and_its_setter(self) -> None:
        merged = rules.merge_goals(
            self.stored, [{"id": "g-l"}, {"id": "g-t"}, {"text": "Swim"}], "learner", lambda: "g-new"
        )

        assert merged[2] == goal("g-new", "learner", "Swim")

    def test_members_left_out_keep_their_value(self) -> None:
        merged = rules.merge_goals(self.stored, [{"id": "g-l", "status": "achieved"}, {"id": "g-t"}], "learner", str)

        assert merged == [goal("g-l", "learner", status="achieved"), self.stored[1]]

    def test_the_other_kinds_goal_may_be_listed_unchanged(self) -> None:
        merged = rules.merge_goals(self.stored, [dict(g) for g in self.stored], "teacher", str)

        assert merged == list(self.stored)

    def test_changing_the_other_kinds_goal_is_refused(self) -> None:
        with pytest.raises(rules.GoalOwnershipError) as caught:
            rules.merge_goals(self.stored, [{"id": "g-l"}, {"id": "g-t", "text": "Nope"}], "learner", str)
        assert caught.value.index == 1

    def test_leaving_out_the_other_kinds_goal_is_refused(self) -> None:
        with pytest.raises(rules.GoalOwnershipError) as caught:
            rules.merge_goals(self.stored, [{"id": "g-t"}], "teacher", str)
        assert caught.value.index is None

    def test_adding_a_goal_of_the_other_kind_is_refused(self) -> None:
        with pytest.raises(rules.GoalOwnershipError):
            rules.merge_goals([], [{"text": "Sneaky", "setBy": "teacher"}], "learner", str)

    def test_an_unknown_or_repeated_id_is_refused(self) -> None:
        with pytest.raises(rules.GoalReferenceError):
            rules.merge_goals(self.stored, [{"id": "g-x"}], "learner", str)
        with pytest.raises(rules.GoalReferenceError):
            rules.merge_goals(self.stored, [{"id": "g-l"}, {"id": "g-l"}, {"id": "g-t"}], "learner", str)

    def test_a_new_goal_needs_a_text(self) -> None:
        with pytest.raises(rules.GoalReferenceError):
            rules.merge_goals([], [{"status": "active"}], "learner", str)


class TestGetProfile:
    async def test_a_learner_reads_their_empty_profile_with_its_etag(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        response = await profile.get(PROFILE, headers=who.learner)

        assert ok(response) == {
            "learnerSourcedId": "l-a1",
            "version": 0,
            "consentRequired": False,
            "guardianConsent": False,
            "goals": [],
            "interests": [],
            "strengths": [],
            "needs": [],
            "accommodations": {"items": [], "note": None},
            "preferredModalities": [],
            "language": None,
            "weeklyTimeBudgetMinutes": None,
            "sharing": {
                "guardians": ["goals", "interests", "strengths", "modalities"],
                "teachers": ["goals", "interests", "strengths", "modalities", "preferences", "support"],
            },
            "lastChanges": {},
        }
        assert response.headers["etag"] == '"0"'
        assert response.headers["cache-control"] == "private, no-store"

    @pytest.mark.parametrize(
        ("caller", "fields"),
        [("teacher", TEACHER_FIELDS), ("guardian", GUARDIAN_DEFAULT_FIELDS), ("admin", ALL_FIELDS)],
    )
    async def test_each_relation_reads_its_share(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, caller: str, fields: set[str]
    ) -> None:
        await roster(apps, "t1")
        response = await profile.get(PROFILE, headers=getattr(who, caller))

        assert set(ok(response)) == fields

    async def test_a_partner_may_not_read_profiles(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        problem(await profile.get(PROFILE, headers=who.partner), 403)

    @pytest.mark.parametrize(
        ("caller", "learner"),
        [("other_teacher", "l-a1"), ("learner", "l-a2"), ("guardian", "l-a2"), ("admin", "nobody")],
        ids=["teacher-of-another-class", "another-learner", "unlinked-guardian", "unknown-learner"],
    )
    async def test_without_a_relation_it_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, caller: str, learner: str
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.get(f"/learners/{learner}/profile", headers=getattr(who, caller)), 404)

    async def test_an_admin_of_another_tenant_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.get(PROFILE, headers=who.other_tenant_admin), 404)

    async def test_the_same_id_in_another_tenant_is_another_profile(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", "t2")
        ok(await profile.patch(PROFILE, json={"interests": ["chess"]}, headers=who.learner))

        response = await profile.get(PROFILE, headers=who.other_tenant_admin)

        assert ok(response)["interests"] == []
        assert ok(response)["version"] == 0

    async def test_a_malformed_learner_id_is_refused_naming_it(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        assert invalid_fields(await profile.get("/learners/-bad id/profile", headers=who.admin)) == ["learner_id"]

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.get(PROFILE, headers=unauthenticated), 401)


class TestPatchProfile:
    async def test_a_learner_changes_their_own_fields(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {
            "interests": ["Chess", " robots ", "chess"],
            "strengths": ["Patient with puzzles"],
            "preferredModalities": ["video", "handsOn", "video"],
            "language": "ES-mx",
            "weeklyTimeBudgetMinutes": 240,
            "sharing": {"guardians": ["goals"]},
        }
        response = await profile.patch(PROFILE, json=body, headers=who.learner)

        updated = ok(response)
        assert response.headers["etag"] == '"1"'
        assert updated["version"] == 1
        assert updated["interests"] == ["Chess", "robots"]
        assert updated["preferredModalities"] == ["video", "handsOn"]
        assert (updated["language"], updated["weeklyTimeBudgetMinutes"]) == ("es-MX", 240)
        assert updated["sharing"]["guardians"] == ["goals"]
        changes = updated["lastChanges"]
        assert set(changes) == {
            "interests",
            "strengths",
            "preferredModalities",
            "language",
            "weeklyTimeBudgetMinutes",
            "sharing",
        }
        assert {(c["changedBy"], c["changedByRole"]) for c in changes.values()} == {("l-a1", "learner")}
        assert ok(await profile.get(PROFILE, headers=who.learner)) == updated

    async def test_a_teacher_changes_needs_accommodations_and_strengths(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {
            "needs": ["Reading support in long word problems"],
            "accommodations": {"items": ["extendedTime", "breaks"], "note": "Breaks every 20 minutes"},
            "strengths": ["Explains ideas to peers"],
        }
        updated = ok(await profile.patch(PROFILE, json=body, headers=who.teacher))

        assert updated["needs"] == body["needs"]
        assert updated["accommodations"] == body["accommodations"]
        assert updated["lastChanges"]["needs"]["changedBy"] == "t-a"
        assert updated["lastChanges"]["needs"]["changedByRole"] == "teacher"

    async def test_only_the_fields_present_change(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"language": "fr", "interests": ["art"]}, headers=who.learner))
        ok(
            await profile.patch(
                PROFILE, json={"needs": ["x"], "accommodations": {"items": ["other"]}}, headers=who.teacher
            )
        )

        ok(await profile.patch(PROFILE, json={"interests": ["music"]}, headers=who.learner))
        updated = ok(await profile.patch(PROFILE, json={"accommodations": {"note": "Quiet room"}}, headers=who.teacher))

        assert (updated["language"], updated["interests"], updated["needs"]) == ("fr", ["music"], ["x"])
        assert updated["accommodations"] == {"items": ["other"], "note": "Quiet room"}
        assert updated["lastChanges"]["language"]["changedBy"] == "l-a1"

    async def test_null_resets_a_field(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"language": "fr", "interests": ["art"]}, headers=who.learner))

        updated = ok(
            await profile.patch(
                PROFILE, json={"language": None, "interests": None, "sharing": None}, headers=who.learner
            )
        )

        assert (updated["language"], updated["interests"]) == (None, [])
        assert updated["sharing"] == rules.default_sharing()

    async def test_a_change_to_the_same_values_changes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))

        again = await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner)

        assert (ok(again)["version"], again.headers["etag"]) == (1, '"1"')
        assert len(await outbox_events(apps)) == 1
        assert len(await stored_changes(apps)) == 1

    async def test_merge_patch_media_type_is_accepted(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        headers = who.learner | {"Content-Type": "application/merge-patch+json"}
        response = await profile.patch(PROFILE, content=b'{"interests": ["art"]}', headers=headers)

        assert ok(response)["interests"] == ["art"]

    @pytest.mark.parametrize(
        ("caller", "body", "field"),
        [
            ("guardian", {"needs": ["more time"]}, "needs"),
            ("learner", {"accommodations": {"items": ["extendedTime"]}}, "accommodations"),
            ("learner", {"interests": ["art"], "needs": ["x"]}, "needs"),
            ("teacher", {"interests": ["art"]}, "interests"),
            ("teacher", {"sharing": {"teachers": []}}, "sharing"),
            ("admin", {"interests": ["art"]}, "interests"),
            ("learner", {"guardianConsent": True}, "guardianConsent"),
            ("teacher", {"guardianConsent": True}, "guardianConsent"),
        ],
        ids=[
            "guardian-needs",
            "learner-accommodations",
            "learner-mixed",
            "teacher-interests",
            "teacher-sharing",
            "admin-interests",
            "learner-consent",
            "teacher-consent",
        ],
    )
    async def test_a_field_the_relation_may_not_edit_is_forbidden_by_name(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, caller: str, body: dict[str, Any], field: str
    ) -> None:
        await roster(apps, "t1")
        response = await profile.patch(PROFILE, json=body, headers=getattr(who, caller))

        assert problem(response, 403)["field"] == field
        assert await stored_profile(apps) is None
        assert await outbox_events(apps) == []

    async def test_a_partner_may_not_change_profiles(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.patch(PROFILE, json={"interests": ["x"]}, headers=who.partner), 403)

    @pytest.mark.parametrize(
        ("body", "fields"),
        [
            ({"nickname": "Al"}, ["nickname"]),
            ({"preferredModalities": ["smellovision"]}, ["preferredModalities.0"]),
            ({"accommodations": {"items": ["jetpack"]}}, ["accommodations.items.0"]),
            ({"accommodations": {"kind": "x"}}, ["accommodations.kind"]),
            ({"sharing": {"guardians": ["diary"]}}, ["sharing.guardians.0"]),
            ({"interests": ["x" * 65]}, ["interests.0"]),
            ({"interests": [""]}, ["interests.0"]),
            ({"interests": ["line\nbreak"]}, ["interests.0"]),
            ({"interests": ["x"] * 31}, ["interests"]),
            ({"strengths": ["x" * 201]}, ["strengths.0"]),
            ({"needs": ["x" * 501]}, ["needs.0"]),
            ({"goals": [{"text": "x" * 501}]}, ["goals.0.text"]),
            ({"goals": [{"text": "Fly", "colour": "red"}]}, ["goals.0.colour"]),
            ({"goals": [{"text": "Fly", "status": "paused"}]}, ["goals.0.status"]),
            ({"goals": [{"text": "Fly", "targetDate": "2026-02-30"}]}, ["goals.0.targetDate"]),
            ({"goals": [{"text": "Fly", "targetDate": "next week"}]}, ["goals.0.targetDate"]),
            ({"language": "en_US"}, ["language"]),
            ({"language": "english"}, ["language"]),
            ({"language": "e"}, ["language"]),
            ({"weeklyTimeBudgetMinutes": -1}, ["weeklyTimeBudgetMinutes"]),
            ({"weeklyTimeBudgetMinutes": 10081}, ["weeklyTimeBudgetMinutes"]),
            ({"weeklyTimeBudgetMinutes": "60"}, ["weeklyTimeBudgetMinutes"]),
            ({"weeklyTimeBudgetMinutes": 1.5}, ["weeklyTimeBudgetMinutes"]),
            ({"guardianConsent": "yes"}, ["guardianConsent"]),
            ({"guardianConsent": None}, ["guardianConsent"]),
        ],
    )
    async def test_bad_input_is_refused_naming_the_field(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, body: dict[str, Any], fields: list[str]
    ) -> None:
        await roster(apps, "t1")
        response = await profile.patch(PROFILE, json=body, headers=who.learner)

        assert invalid_fields(response) == fields
        assert await stored_profile(apps) is None

    async def test_the_largest_budget_and_a_long_enough_tag_pass(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {"weeklyTimeBudgetMinutes": 10080, "interests": ["x" * 64], "language": "zh-Hant-TW"}
        updated = ok(await profile.patch(PROFILE, json=body, headers=who.learner))

        assert updated["weeklyTimeBudgetMinutes"] == 10080

    @pytest.mark.parametrize(
        ("caller", "learner"),
        [("other_teacher", "l-a1"), ("learner", "l-a2"), ("other_tenant_admin", "l-a1")],
        ids=["teacher-of-another-class", "another-learner", "another-tenant"],
    )
    async def test_without_a_relation_it_is_not_found(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, caller: str, learner: str
    ) -> None:
        await roster(apps, "t1")
        response = await profile.patch(
            f"/learners/{learner}/profile", json={"needs": ["x"]}, headers=getattr(who, caller)
        )

        problem(response, 404)
        assert await stored_profile(apps, learner) is None

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.patch(PROFILE, json={"interests": ["x"]}, headers=unauthenticated), 401)
        assert await stored_profile(apps) is None


class TestGoals:
    async def test_a_learner_adds_a_goal_and_the_server_fills_it_in(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {"goals": [{"text": "Master fractions", "targetCompetencyIds": ["frac.1"], "targetDate": "2027-06-01"}]}
        (added,) = ok(await profile.patch(PROFILE, json=body, headers=who.learner))["goals"]

        assert added.pop("id")
        assert added == {
            "text": "Master fractions",
            "targetCompetencyIds": ["frac.1"],
            "targetDate": "2027-06-01",
            "setBy": "learner",
            "status": "active",
        }

    async def test_learner_and_teacher_goals_live_side_by_side(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        mine = ok(await profile.patch(PROFILE, json={"goals": [{"text": "Mine"}]}, headers=who.learner))["goals"]
        both = ok(await profile.patch(PROFILE, json={"goals": [*mine, {"text": "Read daily"}]}, headers=who.teacher))[
            "goals"
        ]

        assert [(g["text"], g["setBy"]) for g in both] == [("Mine", "learner"), ("Read daily", "teacher")]

        marked = [{"id": both[0]["id"], "status": "achieved"}, {"id": both[1]["id"]}]
        after = ok(await profile.patch(PROFILE, json={"goals": marked}, headers=who.learner))["goals"]
        assert [g["status"] for g in after] == ["achieved", "active"]

    async def test_a_learner_may_not_edit_or_remove_a_teacher_goal(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        (teacher_goal,) = ok(await profile.patch(PROFILE, json={"goals": [{"text": "Read"}]}, headers=who.teacher))[
            "goals"
        ]

        edit = await profile.patch(PROFILE, json={"goals": [teacher_goal | {"status": "dropped"}]}, headers=who.learner)
        remove = await profile.patch(PROFILE, json={"goals": []}, headers=who.learner)

        assert problem(edit, 403)["field"] == "goals.0"
        assert problem(remove, 403)["field"] == "goals"
        stored = await stored_profile(apps)
        assert stored is not None
        assert stored.goals == [teacher_goal]

    async def test_a_teacher_may_not_edit_a_learner_goal_nor_add_one_as_the_learner(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        (learner_goal,) = ok(await profile.patch(PROFILE, json={"goals": [{"text": "Mine"}]}, headers=who.learner))[
            "goals"
        ]

        edit = await profile.patch(PROFILE, json={"goals": [learner_goal | {"text": "Yours"}]}, headers=who.teacher)
        impersonate = await profile.patch(
            PROFILE, json={"goals": [learner_goal, {"text": "Also mine", "setBy": "learner"}]}, headers=who.teacher
        )

        assert problem(edit, 403)["field"] == "goals.0"
        assert problem(impersonate, 403)["field"] == "goals.1"

    async def test_an_unknown_goal_id_is_invalid(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        response = await profile.patch(PROFILE, json={"goals": [{"id": "made-up", "text": "x"}]}, headers=who.learner)

        assert invalid_fields(response) == ["goals.0"]


class TestSharing:
    async def test_a_learner_narrows_what_guardians_see(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {"goals": [{"text": "Mine"}], "interests": ["art"], "sharing": {"guardians": ["goals"]}}
        ok(await profile.patch(PROFILE, json=body, headers=who.learner))

        seen = ok(await profile.get(PROFILE, headers=who.guardian))

        assert set(seen) == {
            "learnerSourcedId",
            "version",
            "consentRequired",
            "guardianConsent",
            "goals",
            "lastChanges",
        }
        assert set(seen["lastChanges"]) == {"goals"}

    async def test_a_learner_may_share_support_with_guardians(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"needs": ["quiet space"]}, headers=who.teacher))
        ok(await profile.patch(PROFILE, json={"sharing": {"guardians": ["support"]}}, headers=who.learner))

        assert ok(await profile.get(PROFILE, headers=who.guardian))["needs"] == ["quiet space"]

    async def test_needs_and_accommodations_stay_visible_to_teachers(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"needs": ["quiet space"]}, headers=who.teacher))
        ok(
            await profile.patch(
                PROFILE, json={"interests": ["anime"], "sharing": {"teachers": []}}, headers=who.learner
            )
        )

        seen = ok(await profile.get(PROFILE, headers=who.teacher))

        assert seen["needs"] == ["quiet space"]
        assert "accommodations" in seen
        assert "interests" not in seen
        own = ok(await profile.get(PROFILE, headers=who.learner))
        assert own["sharing"]["teachers"] == ["goals", "strengths", "modalities", "preferences", "support"]

    async def test_the_guardian_of_a_child_under_13_sees_what_the_child_told_us(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", teens=False)
        ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        body = {"language": "fr", "interests": ["art"], "sharing": {"guardians": []}}
        ok(await profile.patch(PROFILE, json=body, headers=who.learner))

        seen = ok(await profile.get(PROFILE, headers=who.guardian))

        assert (seen["language"], seen["interests"]) == ("fr", ["art"])
        assert "needs" not in seen


class TestConsent:
    async def test_a_child_under_13_without_consent_has_an_empty_profile_that_refuses_changes(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        await add_birth_date(apps, "l-a1", years_ago(10))

        response = await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner)
        teacher = await profile.patch(PROFILE, json={"needs": ["x"]}, headers=who.teacher)
        seen = ok(await profile.get(PROFILE, headers=who.learner))

        body = problem(response, 409)
        assert (body["code"], body["field"]) == ("consent_required", "interests")
        assert problem(teacher, 409)["code"] == "consent_required"
        assert (seen["consentRequired"], seen["guardianConsent"], seen["interests"]) == (True, False, [])
        assert await stored_profile(apps) is None
        assert await outbox_events(apps) == []

    @pytest.mark.parametrize(
        ("grades", "birth_date", "required"),
        [
            (["KG"], None, True),
            ([], None, True),
            (["09"], None, False),
            (["KG"], years_ago(14), False),
            (["09"], years_ago(12), True),
        ],
        ids=["kindergarten", "nothing-known", "ninth-grade", "birth-date-over-grades", "young-ninth-grader"],
    )
    async def test_age_comes_from_the_birth_date_else_the_grades_else_is_assumed_under_13(
        self,
        apps: Apps,
        profile: httpx.AsyncClient,
        who: Callers,
        grades: list[str],
        birth_date: date | None,
        required: bool,
    ) -> None:
        await roster(apps, "t1", teens=False)
        await set_grades(apps, grades, "l-a1")
        if birth_date is not None:
            await add_birth_date(apps, "l-a1", birth_date)

        assert ok(await profile.get(PROFILE, headers=who.learner))["consentRequired"] is required

    async def test_a_demographics_row_without_a_birth_date_falls_back_to_the_grades(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        await add_birth_date(apps, "l-a1", None)

        assert ok(await profile.get(PROFILE, headers=who.learner))["consentRequired"] is False

    async def test_once_a_guardian_consents_the_profile_opens(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", teens=False)
        consented = ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        updated = ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))

        assert (consented["consentRequired"], consented["guardianConsent"]) == (False, True)
        assert consented["lastChanges"]["guardianConsent"]["changedBy"] == "g-a1"
        assert consented["lastChanges"]["guardianConsent"]["changedByRole"] == "guardian"
        assert updated["interests"] == ["art"]

    async def test_an_admin_records_paper_consent(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1", teens=False)
        consented = ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.admin))

        assert consented["consentRequired"] is False
        assert consented["lastChanges"]["guardianConsent"]["changedByRole"] == "admin"

    async def test_withdrawing_consent_erases_the_profile_and_the_values_in_its_history(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", teens=False)
        ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        ok(await profile.patch(PROFILE, json={"interests": ["art"], "language": "fr"}, headers=who.learner))
        ok(await profile.patch(PROFILE, json={"needs": ["quiet space"]}, headers=who.teacher))

        withdrawn = ok(await profile.patch(PROFILE, json={"guardianConsent": False}, headers=who.guardian))

        assert (withdrawn["consentRequired"], withdrawn["interests"], withdrawn["language"]) == (True, [], None)
        stored = await stored_profile(apps)
        assert stored is not None
        assert (stored.interests, stored.needs, stored.language, stored.guardian_consent) == ([], [], None, False)
        values = [(c.field, c.old_value, c.new_value, c.values_erased) for c in await stored_changes(apps)]
        assert values == [
            ("guardianConsent", False, True, False),
            ("interests", None, None, True),
            ("language", None, None, True),
            ("needs", None, None, True),
            ("interests", None, None, True),
            ("needs", None, None, True),
            ("language", None, None, True),
            ("guardianConsent", True, False, False),
        ]
        events = await outbox_events(apps)
        assert events[-1]["data"] == {
            "learnerSourcedId": "l-a1",
            "fields": ["interests", "needs", "language", "guardianConsent"],
            "version": 4,
            "erased": True,
        }

        ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        assert ok(await profile.get(PROFILE, headers=who.learner))["interests"] == []

    async def test_the_history_says_what_was_erased_without_the_values(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", teens=False)
        ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))
        ok(await profile.patch(PROFILE, json={"guardianConsent": False}, headers=who.guardian))

        entries = ok_list(await profile.get(HISTORY, headers=who.learner))

        assert [(e["field"], e["oldValue"], e["newValue"], e["valuesErased"]) for e in entries] == [
            ("guardianConsent", True, False, False),
            ("interests", None, None, True),
            ("interests", None, None, True),
            ("guardianConsent", False, True, False),
        ]
        assert entries[1]["changedBy"] == "g-a1"

    async def test_a_guardians_no_erases_what_was_stored_while_the_learner_seemed_older(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))
        await set_grades(apps, ["05"], "l-a1")

        refused = ok(await profile.patch(PROFILE, json={"guardianConsent": False}, headers=who.guardian))

        assert (refused["consentRequired"], refused["version"]) == (True, 2)
        stored = await stored_profile(apps)
        assert stored is not None
        assert stored.interests == []
        assert [(c.field, c.new_value, c.values_erased) for c in await stored_changes(apps)] == [
            ("interests", None, True),
            ("interests", None, True),
        ]

    async def test_withdrawing_consent_for_a_teenager_erases_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"guardianConsent": True}, headers=who.guardian))
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))

        withdrawn = ok(await profile.patch(PROFILE, json={"guardianConsent": False}, headers=who.guardian))

        assert (withdrawn["consentRequired"], withdrawn["interests"]) == (False, ["art"])

    async def test_a_guardian_of_another_learner_cannot_consent(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1", teens=False)
        response = await profile.patch("/learners/l-a2/profile", json={"guardianConsent": True}, headers=who.guardian)

        problem(response, 404)


class TestETags:
    async def test_a_stale_if_match_is_refused_and_changes_nothing(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        etag = (await profile.get(PROFILE, headers=who.teacher)).headers["etag"]
        first = await profile.patch(PROFILE, json={"needs": ["a"]}, headers=who.teacher | {"If-Match": etag})
        second = await profile.patch(PROFILE, json={"needs": ["b"]}, headers=who.teacher | {"If-Match": etag})

        assert (etag, first.headers["etag"]) == ('"0"', '"1"')
        assert problem(second, 412)["code"] == "precondition_failed"
        assert ok(await profile.get(PROFILE, headers=who.teacher))["needs"] == ["a"]
        assert len(await outbox_events(apps)) == 1

    @pytest.mark.parametrize("if_match", ['"0"', 'W/"0"', "*", '"7", "0"'])
    async def test_a_current_if_match_is_accepted(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, if_match: str
    ) -> None:
        await roster(apps, "t1")
        response = await profile.patch(PROFILE, json={"needs": ["a"]}, headers=who.teacher | {"If-Match": if_match})

        assert ok(response)["version"] == 1

    async def test_a_malformed_if_match_is_a_bad_request(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        response = await profile.patch(PROFILE, json={"needs": ["a"]}, headers=who.teacher | {"If-Match": "0"})

        assert problem(response, 400)["field"] == "If-Match"

    async def test_two_teachers_editing_at_once_do_not_overwrite_each_other(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, tokens: TokenFactory
    ) -> None:
        await roster(apps, "t1")
        async with apps.profile.state.sessionmaker() as session:
            session.add(
                Enrollment(
                    tenant_id="t1", sourced_id="c-a-t-b", class_sourced_id="c-a", user_sourced_id="t-b", role="teacher"
                )
            )
            await session.commit()
        co_teacher = tokens.headers("t-b", "teacher")
        for round_ in range(3):
            etag = f'"{round_}"'
            pair = await asyncio.gather(
                profile.patch(PROFILE, json={"needs": [f"a{round_}"]}, headers=who.teacher | {"If-Match": etag}),
                profile.patch(PROFILE, json={"needs": [f"b{round_}"]}, headers=co_teacher | {"If-Match": etag}),
            )
            assert sorted(r.status_code for r in pair) == [200, 412], [r.text for r in pair]

        untagged = await asyncio.gather(
            profile.patch(PROFILE, json={"needs": ["both"]}, headers=who.teacher),
            profile.patch(PROFILE, json={"accommodations": {"items": ["breaks"]}}, headers=co_teacher),
        )
        assert [r.status_code for r in untagged] == [200, 200]
        final = ok(await profile.get(PROFILE, headers=who.teacher))
        assert (final["version"], final["needs"], final["accommodations"]["items"]) == (5, ["both"], ["breaks"])


class TestHistory:
    async def test_lists_who_changed_what_and_when_newest_first(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        before = datetime.now(UTC)
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))
        ok(await profile.patch(PROFILE, json={"needs": ["quiet"]}, headers=who.teacher))
        ok(await profile.patch(PROFILE, json={"interests": ["art", "chess"]}, headers=who.learner))

        response = await profile.get(HISTORY, headers=who.admin)

        entries = ok_list(response)
        assert [
            (e["field"], e["oldValue"], e["newValue"], e["changedBy"], e["changedByRole"], e["version"])
            for e in entries
        ] == [
            ("interests", ["art"], ["art", "chess"], "l-a1", "learner", 3),
            ("needs", [], ["quiet"], "t-a", "teacher", 2),
            ("interests", [], ["art"], "l-a1", "learner", 1),
        ]
        assert all(datetime.fromisoformat(e["changedAt"]) >= before.replace(microsecond=0) for e in entries)
        assert response.headers["x-total-count"] == "3"
        assert entries[0]["id"] > entries[1]["id"] > entries[2]["id"]

    async def test_pages_with_total_and_links(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        for n in range(3):
            ok(await profile.patch(PROFILE, json={"weeklyTimeBudgetMinutes": n + 1}, headers=who.learner))

        response = await profile.get(HISTORY, params={"limit": 1, "offset": 1}, headers=who.learner)

        entries = response.json()
        assert [e["newValue"] for e in entries] == [2]
        assert response.headers["x-total-count"] == "3"
        assert links(response)["next"] == {"limit": ["1"], "offset": ["2"]}
        assert links(response)["prev"] == {"limit": ["1"], "offset": ["0"]}

    async def test_readers_see_the_history_of_the_fields_they_may_read(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"needs": ["quiet"]}, headers=who.teacher))
        body = {"interests": ["anime"], "language": "fr", "sharing": {"teachers": []}}
        ok(await profile.patch(PROFILE, json=body, headers=who.learner))

        guardian = {e["field"] for e in ok_list(await profile.get(HISTORY, headers=who.guardian))}
        teacher = {e["field"] for e in ok_list(await profile.get(HISTORY, headers=who.teacher))}
        learner = {e["field"] for e in ok_list(await profile.get(HISTORY, headers=who.learner))}

        assert guardian == {"interests"}
        assert teacher == {"needs", "language"}
        assert learner == {"needs", "interests", "language", "sharing"}

    async def test_without_consent_only_the_consent_history_is_shown(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        ok(await profile.patch(PROFILE, json={"interests": ["art"]}, headers=who.learner))
        await set_grades(apps, ["05"], "l-a1")  # the roster now says the learner is under 13

        assert ok_list(await profile.get(HISTORY, headers=who.learner)) == []
        assert ok(await profile.get(PROFILE, headers=who.learner))["interests"] == []

    @pytest.mark.parametrize(
        ("caller", "status"),
        [("partner", 403), ("other_teacher", 404), ("classmate", 404), ("other_tenant_admin", 404)],
    )
    async def test_callers_without_access_are_refused(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers, caller: str, status: int
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.get(HISTORY, headers=getattr(who, caller)), status)

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, profile: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await roster(apps, "t1")
        problem(await profile.get(HISTORY, headers=unauthenticated), 401)


class TestProfileUpdatedEvent:
    async def test_names_the_changed_fields_and_never_their_values(
        self, apps: Apps, profile: httpx.AsyncClient, who: Callers
    ) -> None:
        await roster(apps, "t1")
        body = {"interests": ["secret hobby"], "language": "fr", "goals": [{"text": "private goal"}]}
        ok(await profile.patch(PROFILE, json=body, headers=who.learner))

        (event,) = await outbox_events(apps)
        assert (event["tenant_id"], event["subject_id"], event["published_at"]) == ("t1", "l-a1", None)
        assert event["data"] == {
            "learnerSourcedId": "l-a1",
            "fields": ["goals", "interests", "language"],
            "version": 1,
            "erased": False,
        }
        assert "secret" not in str(event["data"])

    async def test_is_written_in_the_transaction_of_the_change(self, apps: Apps) -> None:
        await roster(apps, "t1")
        learner = Principal(sub="l-a1", tenant_id="t1", roles=frozenset({"learner"}), scopes=frozenset())
        patch = LearnerProfilePatch.model_validate({"interests": ["art"]})

        async with apps.profile.state.sessionmaker() as session:
            await learner_profiles.patch_profile(session, learner, "l-a1", patch)
            await session.rollback()
        assert (await stored_profile(apps), await outbox_events(apps), await stored_changes(apps)) == (None, [], [])

        async with apps.profile.state.sessionmaker() as session:
            await learner_profiles.patch_profile(session, learner, "l-a1", patch)
            await session.commit()
        stored = await stored_profile(apps)
        assert stored is not None
        assert (stored.version, len(await outbox_events(apps)), len(await stored_changes(apps))) == (1, 1, 1)

    async def test_refused_changes_write_no_event(self, apps: Apps, profile: httpx.AsyncClient, who: Callers) -> None:
        await roster(apps, "t1")
        await profile.patch(PROFILE, json={"needs": ["x"]}, headers=who.learner)
        await profile.patch(PROFILE, json={"needs": ["x"]}, headers=who.teacher | {"If-Match": '"9"'})
        await profile.patch(PROFILE, json={"goals": [{"id": "nope"}]}, headers=who.learner)

        assert await outbox_events(apps) == []
