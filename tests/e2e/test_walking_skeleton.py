"""One request through all four apps: roster -> evidence -> mastery -> next steps -> GraphQL."""

import httpx

from tests.conftest import Apps
from tests.factories import make_roster
from tests.statements import master
from tests.tokens import TokenFactory

QUERY = "query($id: ID!) { learner(id: $id) { givenName nextSteps { competency { id } reason } } }"


async def next_steps(gateway: httpx.AsyncClient, headers: dict[str, str], learner: str) -> dict[str, object]:
    """The gateway's answer to the learner query."""
    response = await gateway.post("/graphql", json={"query": QUERY, "variables": {"id": learner}}, headers=headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


class TestWalkingSkeleton:
    async def test_mastery_moves_the_next_steps_through_the_gateway(
        self, apps: Apps, gateway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        teacher = tokens.headers("t-a", "teacher")
        before = await next_steps(gateway, teacher, "l-a1")
        first_step = {"competency": {"id": "3.NF.A.1"}, "reason": "ready_to_learn"}
        assert before == {"data": {"learner": {"givenName": "L-A1", "nextSteps": [first_step]}}}
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        after = await next_steps(gateway, teacher, "l-a1")
        learner = after["data"]["learner"]  # type: ignore[index]
        assert [s["competency"]["id"] for s in learner["nextSteps"]] == ["3.NF.A.2"]

    async def test_a_token_of_another_tenant_gets_nothing(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        stranger = tokens.headers("admin", "admin", tenant="t2")
        body = await next_steps(gateway, stranger, "l-a1")
        assert body["data"] == {"learner": None}
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # type: ignore[index]

    async def test_same_ids_in_two_tenants_never_mix_evidence(
        self, apps: Apps, gateway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        other_admin = tokens.headers("admin", "admin", tenant="t2")
        body = await next_steps(gateway, other_admin, "l-a1")
        steps = body["data"]["learner"]["nextSteps"]  # type: ignore[index]
        assert [s["competency"]["id"] for s in steps] == ["3.NF.A.1"]
