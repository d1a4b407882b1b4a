"""Per-framework mastery policies: `PUT`/`GET /frameworks/{id}/mastery-policy`, and new evidence judged by them.

Framework `*` is the tenant's default; without any policy, BKT judges (mastered at P(known) >= 0.95).
Roster (per tenant, from `tests.factories`): admin `admin`, teacher `t-a` of learners `l-a1`, `l-a2`.
"""

from typing import Any

import httpx
import pytest

from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.statements import WRITE, lms, record, statement, voiding
from tests.tokens import TokenFactory

FRAMEWORK = "https://plp.dev/xapi/extensions/framework"
LATEST = {"method": "latest", "options": {"threshold": 0.8}}


def admin(tokens: TokenFactory, tenant: str = "t1") -> dict[str, str]:
    """Headers of the tenant's admin."""
    return tokens.headers("admin", "admin", tenant=tenant)


def writer(tokens: TokenFactory, tenant: str = "t1") -> dict[str, str]:
    """Headers of the `lms` API client recording statements in `tenant`."""
    return lms(tokens, tenant=tenant, scopes=WRITE)


def scored(scaled: float, learner: str = "l-a1", competency: str = "A", framework: str | None = None) -> dict[str, Any]:
    """An answer reporting only a scaled score (no `success`), optionally naming its framework."""
    fields: dict[str, Any] = {"result": {"score": {"scaled": scaled}}}
    if framework is not None:
        fields["context"] = {"extensions": {FRAMEWORK: framework}}
    return statement(learner, competency, success=None, **fields)


async def put_policy(
    progress: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], framework: str = "*"
) -> httpx.Response:
    """PUT the policy of `framework`."""
    return await progress.put(f"/frameworks/{framework}/mastery-policy", json=body, headers=headers)


async def stored_policy(progress: httpx.AsyncClient, tokens: TokenFactory, framework: str = "*") -> dict[str, Any]:
    """The policy of `framework` as the teacher `t-a` reads it."""
    response = await progress.get(f"/frameworks/{framework}/mastery-policy", headers=tokens.headers("t-a", "teacher"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def estimates(progress: httpx.AsyncClient, tokens: TokenFactory, learner: str = "l-a1") -> dict[str, Any]:
    """The learner's estimates by competency, as the teacher reads them."""
    response = await progress.get(f"/learners/{learner}/mastery", headers=tokens.headers("t-a", "teacher"))
    assert response.status_code == 200, response.text
    return {row["competencyId"]: row for row in response.json()}


class TestPutMasteryPolicy:
    async def test_an_admin_sets_the_tenant_default(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await put_policy(progress, admin(tokens), LATEST)

        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"method", "options", "frameworkId", "updatedAt"}
        assert (body["method"], body["options"], body["frameworkId"]) == ("latest", {"threshold": 0.8}, "*")
        stored = await stored_policy(progress, tokens)
        assert (stored["method"], stored["options"], stored["frameworkId"]) == ("latest", {"threshold": 0.8}, "*")

    async def test_a_second_put_replaces_the_first(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200

        again = await put_policy(progress, admin(tokens), {"method": "n_times", "options": {"n": 2}}, "fw-1")
        replaced = await put_policy(progress, admin(tokens), {"method": "average"}, "fw-1")

        assert again.status_code == replaced.status_code == 200
        stored = await stored_policy(progress, tokens, "fw-1")
        assert (stored["method"], stored["options"], stored["frameworkId"]) == ("average", {}, "fw-1")
        assert (await stored_policy(progress, tokens))["method"] == "latest"

    @pytest.mark.parametrize(
        "options",
        [{"threshold": 1.5}, {"threshold": -0.1}, {"weight": 0}, {"n": 0}, {"bogus": 1}, {"threshold": "high"}],
    )
    async def test_bad_options_are_refused_naming_options(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, options: dict[str, Any]
    ) -> None:
        response = await put_policy(progress, admin(tokens), {"method": "decaying_average", "options": options})

        assert problem(response, 400)["field"] == "options"
        assert (await stored_policy(progress, tokens))["method"] == "bkt"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"method": "median"}, "method"),
            ({"options": {}}, "method"),
            ({"method": "latest", "options": []}, "options"),
            ({"method": "latest", "extra": 1}, "extra"),
        ],
    )
    async def test_a_malformed_body_is_422_naming_the_field(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, body: dict[str, Any], field: str
    ) -> None:
        response = await put_policy(progress, admin(tokens), body)

        assert invalid_fields(response) == [field]

    @pytest.mark.parametrize(
        "headers",
        [
            {"sub": "t-a", "roles": ("teacher",), "scopes": ()},
            {"sub": "lms", "roles": ("partner",), "scopes": ("statements/write",)},
            {"sub": "l-a1", "roles": ("learner",), "scopes": ()},
        ],
    )
    async def test_only_admins_may_set_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, headers: dict[str, Any]
    ) -> None:
        caller = tokens.headers(headers["sub"], *headers["roles"], scopes=headers["scopes"])

        problem(await put_policy(progress, caller, LATEST), 403)
        assert (await stored_policy(progress, tokens))["method"] == "bkt"

    async def test_another_tenants_policy_is_its_own(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert (await put_policy(progress, admin(tokens, "t2"), LATEST)).status_code == 200

        assert (await stored_policy(progress, tokens))["method"] == "bkt"

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, unauthenticated: dict[str, str]
    ) -> None:
        problem(await put_policy(progress, unauthenticated, LATEST), 401)
        assert (await stored_policy(progress, tokens))["method"] == "bkt"


class TestGetMasteryPolicy:
    async def test_without_a_policy_bkt_judges(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        stored = await stored_policy(progress, tokens, "fw-1")

        assert (stored["method"], stored["options"], stored["frameworkId"]) == ("bkt", {}, "fw-1")

    async def test_a_framework_without_its_own_policy_gets_the_tenant_default(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200

        stored = await stored_policy(progress, tokens, "fw-1")

        assert (stored["method"], stored["frameworkId"]) == ("latest", "*")

    async def test_a_frameworks_own_policy_wins_over_the_default(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200
        assert (await put_policy(progress, admin(tokens), {"method": "highest"}, "fw-1")).status_code == 200

        assert (await stored_policy(progress, tokens, "fw-1"))["method"] == "highest"
        assert (await stored_policy(progress, tokens, "fw-2"))["method"] == "latest"

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await progress.get("/frameworks/*/mastery-policy", headers=unauthenticated), 401)


class TestPolicyJudgesNewEvidence:
    async def test_with_bkt_three_correct_answers_master_a_competency(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, writer(tokens), [statement("l-a1", "A")] * 2 + [statement("l-a1", "B")] * 3)

        rows = await estimates(progress, tokens)

        assert (rows["A"]["status"], rows["B"]["status"]) == ("in_progress", "mastered")
        assert rows["A"]["estimate"] < 0.95 <= rows["B"]["estimate"]

    async def test_the_latest_score_rule_judges_by_the_score(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200

        await record(progress, writer(tokens), scored(0.9))
        first = (await estimates(progress, tokens))["A"]
        await record(progress, writer(tokens), scored(0.6))
        second = (await estimates(progress, tokens))["A"]

        assert (first["estimate"], first["status"], first["evidenceCount"]) == (pytest.approx(0.9), "mastered", 1)
        assert (second["estimate"], second["status"], second["evidenceCount"]) == (
            pytest.approx(0.6),
            "in_progress",
            2,
        )

    async def test_a_score_at_the_threshold_masters(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200

        await record(progress, writer(tokens), scored(0.8))

        assert (await estimates(progress, tokens))["A"]["status"] == "mastered"

    async def test_a_frameworks_policy_judges_only_its_competencies(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens), {"method": "highest"}, "fw-1")).status_code == 200

        await record(
            progress, writer(tokens), [scored(0.9, competency="A", framework="fw-1"), scored(0.9, competency="B")]
        )

        rows = await estimates(progress, tokens)
        assert (rows["A"]["frameworkId"], rows["A"]["estimate"], rows["A"]["status"]) == (
            "fw-1",
            pytest.approx(0.9),
            "mastered",
        )
        assert (rows["B"]["frameworkId"], rows["B"]["status"]) == ("*", "in_progress")
        assert rows["B"]["estimate"] == pytest.approx(0.18 / 0.34)  # BKT after one correct answer

    async def test_a_framework_set_to_bkt_is_not_judged_by_the_default_rule(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200
        assert (await put_policy(progress, admin(tokens), {"method": "bkt"}, "fw-1")).status_code == 200

        await record(progress, writer(tokens), scored(0.9, framework="fw-1"))

        row = (await estimates(progress, tokens))["A"]
        assert (row["estimate"], row["status"]) == (pytest.approx(0.18 / 0.34), "in_progress")

    async def test_setting_a_policy_keeps_stored_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, writer(tokens), [statement("l-a1", "A")] * 3)
        before = (await estimates(progress, tokens))["A"]

        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200

        assert (await estimates(progress, tokens))["A"] == before

    async def test_another_tenants_policy_does_not_judge_this_tenants_evidence(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens, "t2"), LATEST)).status_code == 200

        await record(progress, writer(tokens), scored(0.9))

        row = (await estimates(progress, tokens))["A"]
        assert (row["estimate"], row["status"]) == (pytest.approx(0.18 / 0.34), "in_progress")

    async def test_voiding_under_a_rule_replays_the_remaining_scores(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        assert (await put_policy(progress, admin(tokens), LATEST)).status_code == 200
        await record(progress, writer(tokens), scored(0.85))
        (low,) = await record(progress, writer(tokens), scored(0.3))

        await record(progress, writer(tokens), voiding(low))

        row = (await estimates(progress, tokens))["A"]
        assert (row["estimate"], row["status"], row["evidenceCount"]) == (pytest.approx(0.85), "mastered", 1)
