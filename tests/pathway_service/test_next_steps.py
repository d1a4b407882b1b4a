"""The pathway service's `GET /learners/{id}/next-steps`: the frontier of the built-in framework from real mastery.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches `l-a1`, `l-a2` (school `s1`);
teacher `t-b` teaches `l-b1` (school `s2`); guardian `g-a1` of `l-a1`; admin `admin`.
"""

import httpx
import pytest

from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import problem
from tests.statements import VERSION, WRITE, master, statement
from tests.tokens import TokenFactory


def competency_ids(response: httpx.Response) -> list[str]:
    """The competency ids of a 200 list of next steps."""
    assert response.status_code == 200, response.text
    return [step["competency"]["id"] for step in response.json()]


class TestNextSteps:
    async def test_a_teacher_gets_the_first_competency_for_a_new_learner(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("t-a", "teacher"))

        assert response.status_code == 200, response.text
        [step] = response.json()
        assert step["reason"] == "ready_to_learn"
        assert step["competency"]["id"] == "3.NF.A.1"
        assert step["competency"]["prerequisites"] == []
        assert step["competency"]["title"].startswith("Understand a unit fraction")

    async def test_reflects_mastery_recorded_through_the_progress_service(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        teacher = tokens.headers("t-a", "teacher")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        response = await pathway.get("/learners/l-a1/next-steps", headers=teacher)

        assert competency_ids(response) == ["3.NF.A.2"]
        assert response.json()[0]["competency"]["prerequisites"] == ["3.NF.A.1"]

    async def test_evidence_short_of_mastery_does_not_move_the_path(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        recorded = await progress.post(
            "/xapi/statements", json=[statement("l-a1", "3.NF.A.1")] * 2, headers=lms | VERSION
        )
        assert recorded.status_code == 200, recorded.text

        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("t-a", "teacher"))

        assert competency_ids(response) == ["3.NF.A.1"]

    async def test_one_learners_mastery_does_not_move_a_classmates_path(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        response = await pathway.get("/learners/l-a2/next-steps", headers=tokens.headers("t-a", "teacher"))

        assert competency_ids(response) == ["3.NF.A.1"]

    async def test_offers_every_ready_competency_in_framework_order(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "3.NF.A.1", "3.NF.A.2", "3.NF.A.3")

        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("t-a", "teacher"))

        assert competency_ids(response) == ["4.NF.A.1", "4.NF.B.3"]

    async def test_the_limit_keeps_the_first_steps(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "3.NF.A.1", "3.NF.A.2", "3.NF.A.3")

        response = await pathway.get(
            "/learners/l-a1/next-steps", params={"limit": 1}, headers=tokens.headers("t-a", "teacher")
        )

        assert competency_ids(response) == ["4.NF.A.1"]

    async def test_a_learner_reads_their_own_next_steps(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("l-a1", "learner"))

        assert competency_ids(response) == ["3.NF.A.1"]

    async def test_a_guardian_reads_their_linked_learners_next_steps(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("g-a1", "guardian"))

        assert competency_ids(response) == ["3.NF.A.1"]

    async def test_a_teacher_of_another_school_gets_not_found(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("t-b", "teacher"))

        problem(response, 404)

    async def test_a_learner_gets_not_found_for_a_classmate(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("l-a2", "learner"))

        problem(response, 404)

    async def test_an_admin_of_another_tenant_gets_not_found(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("admin", "admin", tenant="t2"))

        problem(response, 404)

    async def test_the_same_learner_id_in_another_tenant_follows_only_its_own_mastery(
        self, apps: Apps, pathway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        response = await pathway.get("/learners/l-a1/next-steps", headers=tokens.headers("admin", "admin", tenant="t2"))

        assert competency_ids(response) == ["3.NF.A.1"]

    @pytest.mark.parametrize("limit", [0, 51, -1])
    async def test_a_limit_out_of_range_is_refused_naming_it(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory, limit: int
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get(
            "/learners/l-a1/next-steps", params={"limit": limit}, headers=tokens.headers("t-a", "teacher")
        )

        assert [e["field"] for e in problem(response, 422)["errors"]] == ["limit"]

    async def test_a_limit_that_is_not_a_number_is_refused_naming_it(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get(
            "/learners/l-a1/next-steps", params={"limit": "many"}, headers=tokens.headers("t-a", "teacher")
        )

        assert [e["field"] for e in problem(response, 422)["errors"]] == ["limit"]

    async def test_a_malformed_learner_id_is_refused_naming_it(
        self, apps: Apps, pathway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/-bad id/next-steps", headers=tokens.headers("admin", "admin"))

        assert [e["field"] for e in problem(response, 422)["errors"]] == ["learner_id"]

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, pathway: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await pathway.get("/learners/l-a1/next-steps", headers=unauthenticated)

        problem(response, 401)
