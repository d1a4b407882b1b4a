"""The gateway's `learner(id)` query: who gets which learner, error codes, and a partial answer when a service is down.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches `l-a1`, `l-a2` (school `s1`);
teacher `t-b` teaches `l-b1` (school `s2`); guardian `g-a1` of `l-a1`; admin `admin`.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from services.pathway_service.app import create_app as create_pathway
from services.pathway_service.settings import PathwaySettings
from services.profile_service.models import RosterUser
from tests.conftest import URLS, Apps, Databases, service_links
from tests.factories import make_roster
from tests.statements import master
from tests.tokens import TokenFactory

LEARNER = """
query($id: ID!) {
  learner(id: $id) {
    id givenName familyName grades
    nextSteps { competency { id title } reason }
  }
}
"""
NAME_AND_STEPS = "query($id: ID!) { learner(id: $id) { givenName nextSteps { competency { id } } } }"
FIRST_STEP = {
    "competency": {
        "id": "3.NF.A.1",
        "title": "Understand a unit fraction 1/b as one part of a whole cut into b equal parts",
    },
    "reason": "ready_to_learn",
}


class RefusedConnection(httpx.AsyncBaseTransport):
    """A transport to a service that is down: every request fails to connect."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Refuse the connection."""
        raise httpx.ConnectError("connection refused (injected)", request=request)


async def ask(
    gateway: httpx.AsyncClient, query: str, headers: dict[str, str], **variables: Any
) -> tuple[int, dict[str, Any]]:
    """POST a GraphQL operation; the HTTP status and the JSON body."""
    response = await gateway.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def error_codes(body: dict[str, Any]) -> list[str]:
    """`extensions.code` of each GraphQL error."""
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def give_grades(apps: Apps, learner: str, grades: list[str]) -> None:
    """Set a learner's grades straight in the profile database (tenant t1)."""
    async with apps.profile.state.sessionmaker() as session:
        user = await session.get(RosterUser, ("t1", learner))
        assert user is not None
        user.grades = grades
        await session.commit()


@pytest.fixture
async def progress_down(apps: Apps, databases: Databases, var_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway and pathway service wired to the real profile service while the progress service is down."""
    links = service_links(var_dir)
    mounts: dict[str, httpx.AsyncBaseTransport] = {
        URLS["profile"]: httpx.ASGITransport(app=apps.profile),
        URLS["progress"]: RefusedConnection(),
    }
    pathway = create_pathway(PathwaySettings(database_url=databases.urls["pathway"], **links), mounts)
    mounts[URLS["pathway"]] = httpx.ASGITransport(app=pathway)
    gateway = create_gateway(GatewaySettings(**links), mounts)
    async with pathway.router.lifespan_context(pathway), gateway.router.lifespan_context(gateway):
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url=URLS["gateway"]) as client:
            yield client


class TestLearnerQuery:
    async def test_a_teacher_gets_the_learner_with_grades_and_next_steps(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await give_grades(apps, "l-a1", ["03"])
        status, body = await ask(gateway, LEARNER, tokens.headers("t-a", "teacher"), id="l-a1")

        assert status == 200
        assert body == {
            "data": {
                "learner": {
                    "id": "l-a1",
                    "givenName": "L-A1",
                    "familyName": "Test",
                    "grades": ["03"],
                    "nextSteps": [FIRST_STEP],
                }
            }
        }

    async def test_next_steps_follow_the_mastery_recorded_in_the_progress_service(
        self, apps: Apps, gateway: httpx.AsyncClient, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "3.NF.A.1")

        _, body = await ask(gateway, NAME_AND_STEPS, tokens.headers("t-a", "teacher"), id="l-a1")

        assert body["data"]["learner"]["nextSteps"] == [{"competency": {"id": "3.NF.A.2"}}]

    async def test_a_learner_gets_themselves(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        status, body = await ask(gateway, LEARNER, tokens.headers("l-a1", "learner"), id="l-a1")

        assert status == 200
        assert "errors" not in body
        assert body["data"]["learner"]["givenName"] == "L-A1"
        assert body["data"]["learner"]["nextSteps"] == [FIRST_STEP]

    async def test_a_guardian_gets_their_linked_learner(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        status, body = await ask(gateway, LEARNER, tokens.headers("g-a1", "guardian"), id="l-a1")

        assert status == 200
        assert "errors" not in body
        assert body["data"]["learner"]["familyName"] == "Test"
        assert body["data"]["learner"]["nextSteps"] == [FIRST_STEP]

    async def test_another_schools_learner_is_null_with_not_found(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        status, body = await ask(gateway, LEARNER, tokens.headers("t-b", "teacher"), id="l-a1")

        assert status == 200
        assert body["data"] == {"learner": None}
        assert error_codes(body) == ["NOT_FOUND"]
        assert body["errors"][0]["path"] == ["learner"]

    async def test_a_guardian_gets_null_with_not_found_for_an_unlinked_learner(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        _, body = await ask(gateway, LEARNER, tokens.headers("g-a1", "guardian"), id="l-a2")

        assert body["data"] == {"learner": None}
        assert error_codes(body) == ["NOT_FOUND"]

    async def test_another_tenants_admin_gets_null_with_not_found(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        _, body = await ask(gateway, LEARNER, tokens.headers("admin", "admin", tenant="t2"), id="l-a1")

        assert body["data"] == {"learner": None}
        assert error_codes(body) == ["NOT_FOUND"]

    @pytest.mark.parametrize("learner_id", ["../learners/l-a1", "l-a1?x=1", "l-a1/", " l-a1"])
    async def test_an_id_that_is_not_a_sourced_id_never_reads_another_learner(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory, learner_id: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        _, body = await ask(gateway, LEARNER, tokens.headers("admin", "admin"), id=learner_id)

        assert body["data"] == {"learner": None}
        assert error_codes(body) in (["BAD_USER_INPUT"], ["NOT_FOUND"])

    async def test_without_a_token_the_answer_is_http_401(
        self, apps: Apps, gateway: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await gateway.post(
            "/graphql", json={"query": LEARNER, "variables": {"id": "l-a1"}}, headers=unauthenticated
        )

        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_a_query_over_get_also_needs_a_token(self, apps: Apps, gateway: httpx.AsyncClient) -> None:
        response = await gateway.get("/graphql", params={"query": '{ learner(id: "l-a1") { givenName } }'})

        assert response.status_code == 401, response.text

    async def test_a_syntax_error_is_a_validation_failure(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, body = await ask(gateway, "{ learner(id: ", tokens.headers("t-a", "teacher"))

        assert body.get("data") is None
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]

    async def test_an_unknown_field_is_a_validation_failure(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        query = 'query { learner(id: "l-a1") { givenName password } }'
        _, body = await ask(gateway, query, tokens.headers("t-a", "teacher"))

        assert body.get("data") is None
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
        assert "password" in body["errors"][0]["message"]

    async def test_a_missing_required_argument_is_a_validation_failure(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, body = await ask(gateway, "{ learner { givenName } }", tokens.headers("t-a", "teacher"))

        assert body.get("data") is None
        assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]

    async def test_introspection_is_refused_outside_dev_mode(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, body = await ask(gateway, "{ __schema { types { name } } }", tokens.headers("admin", "admin"))

        assert body.get("data") is None
        assert error_codes(body)
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in body["errors"][0]["message"].lower()

    async def test_type_introspection_is_refused_outside_dev_mode(
        self, apps: Apps, gateway: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, body = await ask(
            gateway, '{ __type(name: "Learner") { fields { name } } }', tokens.headers("admin", "admin")
        )

        assert body.get("data") is None
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}

    async def test_when_progress_is_down_next_steps_is_unavailable_and_the_name_still_answers(
        self, apps: Apps, progress_down: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        status, body = await ask(progress_down, NAME_AND_STEPS, tokens.headers("t-a", "teacher"), id="l-a1")

        assert status == 200
        assert error_codes(body) == ["UNAVAILABLE"]
        assert body["errors"][0]["path"] == ["learner", "nextSteps"]
        assert body["data"]["learner"] is not None, body
        assert body["data"]["learner"]["givenName"] == "L-A1"
        assert body["data"]["learner"]["nextSteps"] is None

    async def test_when_progress_is_down_a_query_without_next_steps_is_unaffected(
        self, apps: Apps, progress_down: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        query = "query($id: ID!) { learner(id: $id) { givenName familyName } }"
        status, body = await ask(progress_down, query, tokens.headers("t-a", "teacher"), id="l-a1")

        assert status == 200
        assert body == {"data": {"learner": {"givenName": "L-A1", "familyName": "Test"}}}
