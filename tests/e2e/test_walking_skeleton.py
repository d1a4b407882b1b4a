"""One request through all four apps: roster -> evidence -> mastery -> next steps -> GraphQL."""

import httpx

from tests.conftest import Apps
from tests.factories import make_roster
from tests.tokens import TokenFactory

QUERY = "query($id: ID!) { learner(id: $id) { givenName nextSteps { competency { id } reason } } }"
WRITE = ("statements/write",)


def statement(learner: str, competency: str, success: bool) -> dict[str, object]:
    """A practice answer by `learner` evidencing `competency`."""
    return {
        "actor": {"account": {"homePage": "https://lms.example", "name": learner}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "object": {
            "id": f"https://lms.example/items/{competency}",
            "definition": {"extensions": {"https://plp.dev/xapi/extensions/competency": competency}},
        },
        "result": {"success": success},
    }


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
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        answers = [statement("l-a1", "3.NF.A.1", True) for _ in range(3)]
        recorded = await progress.post("/statements", json=answers, headers=lms)
        assert recorded.status_code == 200, recorded.text

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
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        answers = [statement("l-a1", "3.NF.A.1", True) for _ in range(3)]
        assert (await progress.post("/statements", json=answers, headers=lms)).status_code == 200

        other_admin = tokens.headers("admin", "admin", tenant="t2")
        body = await next_steps(gateway, other_admin, "l-a1")
        steps = body["data"]["learner"]["nextSteps"]  # type: ignore[index]
        assert [s["competency"]["id"] for s in steps] == ["3.NF.A.1"]
