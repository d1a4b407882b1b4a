"""The xAPI document resources (state, activity and agent profiles), Agents, Activities, canonical definitions.

API client `lms` (role partner) acts with the scopes each test gives it; learner `l-a1` is the agent
`{"account": {"homePage": "https://lms.example", "name": "l-a1"}}`. Every scenario runs under both
xAPI versions unless the rule differs between them.
"""

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from services.progress_service import documents
from services.progress_service.models import ActivityDefinition
from tests.conftest import Apps
from tests.problems import problem
from tests.tokens import TokenFactory

VERSIONS = ("1.0.3", "2.0.0")
VERSION_HEADER = "X-Experience-API-Version"
ACTIVITY = "https://lms.example/activities/fractions"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"
JSON_TYPE = {"Content-Type": "application/json"}


def agent(learner: str = "l-a1", **fields: Any) -> str:
    """The `agent` parameter naming `learner` by account."""
    return json.dumps({"account": {"homePage": "https://lms.example", "name": learner}, **fields})


def etag(content: bytes) -> str:
    """The ETag the spec asks for: the quoted SHA-1 hex of the content."""
    return f'"{hashlib.sha1(content, usedforsecurity=False).hexdigest()}"'


def state(state_id: str = "bookmark", learner: str = "l-a1", **extra: str) -> dict[str, str]:
    """Query parameters of one state document."""
    return {"activityId": ACTIVITY, "agent": agent(learner), "stateId": state_id, **extra}


def activity_profile(profile_id: str = "settings", **extra: str) -> dict[str, str]:
    """Query parameters of one activity profile."""
    return {"activityId": ACTIVITY, "profileId": profile_id, **extra}


def agent_profile(profile_id: str = "preferences", learner: str = "l-a1", **extra: str) -> dict[str, str]:
    """Query parameters of one agent profile."""
    return {"agent": agent(learner), "profileId": profile_id, **extra}


def bad_request(response: httpx.Response, field: str) -> None:
    """A 400 problem naming `field`."""
    assert problem(response, 400)["field"] == field


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    """The xAPI version the test speaks."""
    value: str = request.param
    return value


@pytest.fixture
def client(tokens: TokenFactory, version: str) -> dict[str, str]:
    """Headers of API client `lms` holding the `state` and `profile` scopes."""
    return tokens.headers("lms", "partner", scopes=("state", "profile")) | {VERSION_HEADER: version}


@pytest.fixture
def learner(tokens: TokenFactory, version: str) -> dict[str, str]:
    """Headers of learner `l-a1`."""
    return tokens.headers("l-a1", "learner") | {VERSION_HEADER: version}


class TestGetState:
    async def test_a_client_reads_back_the_bytes_it_stored_with_their_headers(
        self, progress: httpx.AsyncClient, client: dict[str, str], version: str
    ) -> None:
        content = b"\x00\x01 scorm suspend data"
        put = await progress.put(STATE, params=state(), content=content, headers=client | {"Content-Type": "text/x-a"})
        assert put.status_code == 204, put.text

        response = await progress.get(STATE, params=state(), headers=client)

        assert response.status_code == 200
        assert response.content == content
        assert response.headers["content-type"] == "text/x-a"
        assert response.headers["etag"] == etag(content)
        assert response.headers["last-modified"].endswith(" GMT")
        assert response.headers[VERSION_HEADER] == version

    async def test_head_answers_the_same_headers_without_the_body(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.put(STATE, params=state(), json={"page": 3}, headers=client)

        response = await progress.head(STATE, params=state(), headers=client)

        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["etag"] == etag(b'{"page":3}')

    async def test_without_state_id_it_lists_the_ids_across_registrations_or_of_one(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        registration = str(uuid.uuid4())
        for params in (state("a"), state("b", registration=registration), state("c", learner="l-a2")):
            assert (await progress.put(STATE, params=params, json={}, headers=client)).status_code == 204
        scope = {"activityId": ACTIVITY, "agent": agent()}

        every = await progress.get(STATE, params=scope, headers=client)
        narrowed = await progress.get(STATE, params=scope | {"registration": registration.upper()}, headers=client)

        assert every.json() == ["a", "b"]
        assert every.headers["content-type"] == "application/json"
        assert "last-modified" in every.headers
        assert narrowed.json() == ["b"]

    async def test_since_keeps_the_ids_changed_after_it(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.put(STATE, params=state("old"), json={}, headers=client)
        middle = datetime.now(UTC)
        await progress.put(STATE, params=state("new"), json={}, headers=client)
        scope = {"activityId": ACTIVITY, "agent": agent()}

        after_middle = await progress.get(STATE, params=scope | {"since": middle.isoformat()}, headers=client)
        future = (middle + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        after_future = await progress.get(STATE, params=scope | {"since": future}, headers=client)

        assert after_middle.json() == ["new"]
        assert after_future.json() == []
        assert "last-modified" not in after_future.headers

    async def test_since_beside_state_id_is_refused_by_2_0_and_ignored_by_1_0_3(
        self, progress: httpx.AsyncClient, client: dict[str, str], version: str
    ) -> None:
        await progress.put(STATE, params=state(), json={}, headers=client)

        response = await progress.get(STATE, params=state(since="2024-01-01T00:00:00Z"), headers=client)

        if version == "2.0.0":
            bad_request(response, "since")
        else:
            assert response.status_code == 200

    async def test_an_absent_document_is_404(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        problem(await progress.get(STATE, params=state(), headers=client), 404)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"agent": agent(), "stateId": "s"}, "activityId"),
            (state(activityId="not an iri"), "activityId"),
            ({"activityId": ACTIVITY, "stateId": "s"}, "agent"),
            (state(agent="not json"), "agent"),
            (state(agent="true"), "agent"),
            (state(agent=json.dumps({"account": {"name": "l-a1"}})), "agent"),
            (state(registration="not-a-uuid"), "registration"),
            ({"activityId": ACTIVITY, "agent": agent(), "since": "yesterday"}, "since"),
            (state(limit="3"), "limit"),
            ({"activityid": ACTIVITY, "agent": agent(), "stateId": "s"}, "activityid"),
        ],
        ids=[
            "no-activity",
            "activity-not-iri",
            "no-agent",
            "agent-not-json",
            "agent-not-object",
            "agent-incomplete-account",
            "registration-not-uuid",
            "since-not-timestamp",
            "unknown-param",
            "wrong-case-param",
        ],
    )
    async def test_bad_parameters_are_400_naming_the_field(
        self, progress: httpx.AsyncClient, client: dict[str, str], params: dict[str, str], field: str
    ) -> None:
        bad_request(await progress.get(STATE, params=params, headers=client), field)

    async def test_the_version_header_is_required(self, progress: httpx.AsyncClient, tokens: TokenFactory) -> None:
        headers = tokens.headers("lms", "partner", scopes=("state",))

        response = await progress.get(STATE, params=state(), headers=headers)

        bad_request(response, VERSION_HEADER)
        assert response.headers[VERSION_HEADER] == "2.0.0"

    async def test_without_credentials_it_is_401(
        self, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await progress.get(STATE, params=state(), headers=unauthenticated | {VERSION_HEADER: "1.0.3"})
        problem(response, 401)

    async def test_a_client_without_a_state_scope_is_403(
        self, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("statements/write",)) | {VERSION_HEADER: version}
        problem(await progress.get(STATE, params=state(), headers=headers), 403)

    async def test_a_learner_reads_their_own_state_but_not_another_learners(
        self, progress: httpx.AsyncClient, client: dict[str, str], learner: dict[str, str]
    ) -> None:
        await progress.put(STATE, params=state(), json={"mine": True}, headers=client)

        own = await progress.get(STATE, params=state(), headers=learner)
        other = await progress.get(STATE, params=state(learner="l-a2"), headers=learner)

        assert own.json() == {"mine": True}
        assert problem(other, 403)["field"] == "agent"

    async def test_another_tenant_sees_none_of_it(
        self, progress: httpx.AsyncClient, client: dict[str, str], tokens: TokenFactory, version: str
    ) -> None:
        await progress.put(STATE, params=state(), json={}, headers=client)
        t2 = tokens.headers("lms", "partner", tenant="t2", scopes=("state",)) | {VERSION_HEADER: version}

        problem(await progress.get(STATE, params=state(), headers=t2), 404)
        listed = await progress.get(STATE, params={"activityId": ACTIVITY, "agent": agent()}, headers=t2)
        assert listed.json() == []


class TestPutState:
    async def test_1_0_3_replaces_an_existing_document_without_concurrency_headers(
        self, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("state",)) | {VERSION_HEADER: "1.0.3"}
        await progress.put(STATE, params=state(), json={"v": 1}, headers=headers)

        response = await progress.put(STATE, params=state(), json={"v": 2}, headers=headers)

        assert response.status_code == 204
        assert (await progress.get(STATE, params=state(), headers=headers)).json() == {"v": 2}

    async def test_2_0_refuses_a_blind_overwrite_with_409(
        self, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("state",)) | {VERSION_HEADER: "2.0.0"}
        assert (await progress.put(STATE, params=state(), json={"v": 1}, headers=headers)).status_code == 204

        response = await progress.put(STATE, params=state(), json={"v": 2}, headers=headers)

        assert "If-Match" in problem(response, 409)["detail"]
        assert (await progress.get(STATE, params=state(), headers=headers)).json() == {"v": 1}

    async def test_if_match_replaces_only_the_version_it_names(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        first = await progress.put(STATE, params=state(), json={"v": 1}, headers=client)
        current = first.headers["etag"]
        assert current == etag(b'{"v":1}')

        stale = await progress.put(STATE, params=state(), json={"v": 3}, headers=client | {"If-Match": '"1234"'})
        fresh = await progress.put(STATE, params=state(), json={"v": 2}, headers=client | {"If-Match": current})

        assert problem(stale, 412)["header"] == "If-Match"
        assert fresh.status_code == 204
        assert (await progress.get(STATE, params=state(), headers=client)).json() == {"v": 2}

    async def test_if_match_on_an_absent_document_is_412(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        response = await progress.put(STATE, params=state(), json={}, headers=client | {"If-Match": "*"})
        problem(response, 412)

    async def test_if_none_match_star_creates_only_when_absent(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        create = client | {"If-None-Match": "*"}

        first = await progress.put(STATE, params=state(), json={"v": 1}, headers=create)
        second = await progress.put(STATE, params=state(), json={"v": 2}, headers=create)

        assert first.status_code == 204
        assert problem(second, 412)["header"] == "If-None-Match"
        assert (await progress.get(STATE, params=state(), headers=client)).json() == {"v": 1}

    async def test_registrations_keep_documents_apart(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        registration = str(uuid.uuid4())
        await progress.put(STATE, params=state(), json={"r": None}, headers=client)
        await progress.put(STATE, params=state(registration=registration), json={"r": 1}, headers=client)

        plain = await progress.get(STATE, params=state(), headers=client)
        registered = await progress.get(STATE, params=state(registration=registration), headers=client)

        assert (plain.json(), registered.json()) == ({"r": None}, {"r": 1})

    async def test_the_same_agent_named_differently_finds_the_same_document(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.put(STATE, params=state(), json={"v": 1}, headers=client)
        renamed = state(agent=agent(name="Ada", objectType="Agent"))

        assert (await progress.get(STATE, params=renamed, headers=client)).json() == {"v": 1}

    async def test_state_id_is_required(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        params = {"activityId": ACTIVITY, "agent": agent()}
        bad_request(await progress.put(STATE, params=params, json={}, headers=client), "stateId")

    async def test_since_is_not_a_put_parameter(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        params = state(since="2024-01-01T00:00:00Z")
        bad_request(await progress.put(STATE, params=params, json={}, headers=client), "since")

    async def test_a_learner_writes_their_own_state_only(
        self, progress: httpx.AsyncClient, learner: dict[str, str]
    ) -> None:
        own = await progress.put(STATE, params=state(), json={}, headers=learner)
        other = await progress.put(STATE, params=state(learner="l-a2"), json={}, headers=learner)

        assert own.status_code == 204
        problem(other, 403)

    async def test_a_read_only_client_may_not_write(
        self, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("all/read",)) | {VERSION_HEADER: version}
        problem(await progress.put(STATE, params=state(), json={}, headers=headers), 403)


class TestPostState:
    async def test_top_level_properties_merge_into_the_stored_object(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.post(STATE, params=state(), json={"x": "foo", "y": {"a": 1}}, headers=client)

        response = await progress.post(STATE, params=state(), json={"x": "bash", "y": {"b": 2}, "z": 1}, headers=client)

        assert response.status_code == 204
        merged = await progress.get(STATE, params=state(), headers=client)
        assert merged.json() == {"x": "bash", "y": {"b": 2}, "z": 1}
        assert merged.headers["etag"] == response.headers["etag"]

    async def test_a_non_json_document_cannot_be_merged(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.put(STATE, params=state(), content=b"plain", headers=client | {"Content-Type": "text/plain"})

        response = await progress.post(STATE, params=state(), json={"x": 1}, headers=client)

        bad_request(response, "Content-Type")
        assert (await progress.get(STATE, params=state(), headers=client)).content == b"plain"

    @pytest.mark.parametrize("body", [b"[1, 2]", b"{not json", b'"text"'], ids=["array", "invalid", "string"])
    async def test_a_body_that_is_not_a_json_object_cannot_be_merged(
        self, progress: httpx.AsyncClient, client: dict[str, str], body: bytes
    ) -> None:
        await progress.post(STATE, params=state(), json={"x": 1}, headers=client)

        response = await progress.post(STATE, params=state(), content=body, headers=client | JSON_TYPE)

        bad_request(response, "body")
        assert (await progress.get(STATE, params=state(), headers=client)).json() == {"x": 1}

    async def test_a_stale_if_match_is_412(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        await progress.post(STATE, params=state(), json={"x": 1}, headers=client)

        response = await progress.post(STATE, params=state(), json={"y": 2}, headers=client | {"If-Match": '"1234"'})

        problem(response, 412)
        assert (await progress.get(STATE, params=state(), headers=client)).json() == {"x": 1}


class TestDeleteState:
    async def test_deleting_one_document(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        await progress.put(STATE, params=state(), json={}, headers=client)

        response = await progress.delete(STATE, params=state(), headers=client)

        assert response.status_code == 204
        problem(await progress.get(STATE, params=state(), headers=client), 404)
        assert (await progress.delete(STATE, params=state(), headers=client)).status_code == 204

    async def test_without_state_id_it_deletes_the_context_or_one_registration_of_it(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        registration = str(uuid.uuid4())
        for params in (state("a"), state("b", registration=registration), state("c", learner="l-a2")):
            await progress.put(STATE, params=params, json={}, headers=client)
        scope = {"activityId": ACTIVITY, "agent": agent()}

        await progress.delete(STATE, params=scope | {"registration": registration}, headers=client)
        assert (await progress.get(STATE, params=scope, headers=client)).json() == ["a"]
        await progress.delete(STATE, params=scope, headers=client)
        assert (await progress.get(STATE, params=scope, headers=client)).json() == []
        other = {"activityId": ACTIVITY, "agent": agent("l-a2")}
        assert (await progress.get(STATE, params=other, headers=client)).json() == ["c"]

    async def test_a_stale_if_match_keeps_the_document(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        put = await progress.put(STATE, params=state(), json={}, headers=client)

        stale = await progress.delete(STATE, params=state(), headers=client | {"If-Match": '"1234"'})
        fresh = await progress.delete(STATE, params=state(), headers=client | {"If-Match": put.headers["etag"]})

        problem(stale, 412)
        assert fresh.status_code == 204

    async def test_a_learner_may_not_delete_another_learners_state(
        self, progress: httpx.AsyncClient, learner: dict[str, str]
    ) -> None:
        problem(await progress.delete(STATE, params=state(learner="l-a2"), headers=learner), 403)


class TestConcurrentWrites:
    """A request that loses a race between reading a document and writing it changes nothing."""

    @pytest.fixture
    def stale_read(self, monkeypatch: pytest.MonkeyPatch) -> list[documents.Document | None]:
        """Once the test puts a document (or None) in the returned list, reads see it: a concurrent writer won."""
        seen: list[documents.Document | None] = []
        real_read = documents.get_document

        async def read(session: AsyncSession, key: documents.DocumentKey) -> documents.Document | None:
            return seen[0] if seen else await real_read(session, key)

        monkeypatch.setattr(documents, "get_document", read)
        return seen

    async def test_an_update_racing_another_is_412_when_conditional_else_409(
        self, progress: httpx.AsyncClient, tokens: TokenFactory, stale_read: list[documents.Document | None]
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("state",)) | {VERSION_HEADER: "1.0.3"}
        assert (await progress.put(STATE, params=state(), json={"v": 1}, headers=headers)).status_code == 204
        stale_read.append(documents.Document(b"{}", "application/json", '"stale"', datetime.now(UTC)))

        conditional = await progress.put(STATE, params=state(), json={}, headers=headers | {"If-Match": '"stale"'})
        blind = await progress.post(STATE, params=state(), json={"v": 2}, headers=headers)

        problem(conditional, 412)
        assert "changed while" in problem(blind, 409)["detail"]

    async def test_a_create_racing_another_is_409(
        self, progress: httpx.AsyncClient, client: dict[str, str], stale_read: list[documents.Document | None]
    ) -> None:
        await progress.put(STATE, params=state(), json={"v": 1}, headers=client)
        stale_read.append(None)

        response = await progress.post(STATE, params=state(), json={"v": 2}, headers=client)

        problem(response, 409)


class TestStorageLimits:
    async def test_identifiers_too_long_to_index_are_400(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        params = state("s" * 255, activityId=f"https://lms.example/{'a' * 2000}")
        params["agent"] = json.dumps({"account": {"homePage": "https://lms.example", "name": "n" * 900}})

        bad_request(await progress.put(STATE, params=params, json={}, headers=client), "stateId")

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            (state("s" * 256), "stateId"),
            (state(activityId=f"https://lms.example/{'a' * 2048}"), "activityId"),
        ],
        ids=["state-id", "activity-id"],
    )
    async def test_identifiers_over_their_column_width_are_400(
        self, progress: httpx.AsyncClient, client: dict[str, str], params: dict[str, str], field: str
    ) -> None:
        bad_request(await progress.put(STATE, params=params, json={}, headers=client), field)

    async def test_an_overlong_content_type_is_400(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        headers = client | {"Content-Type": "text/plain; x=" + "y" * 300}
        bad_request(await progress.put(STATE, params=state(), content=b"x", headers=headers), "Content-Type")


class TestActivityProfile:
    async def test_a_client_stores_it_and_every_caller_of_the_tenant_reads_it(
        self, progress: httpx.AsyncClient, client: dict[str, str], learner: dict[str, str]
    ) -> None:
        put = await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={"lang": "en"}, headers=client)
        assert put.status_code == 204

        read = await progress.get(ACTIVITY_PROFILE, params=activity_profile(), headers=learner)
        ids = await progress.get(ACTIVITY_PROFILE, params={"activityId": ACTIVITY}, headers=learner)

        assert read.json() == {"lang": "en"}
        assert read.headers["etag"] == put.headers["etag"]
        assert ids.json() == ["settings"]

    async def test_a_blind_overwrite_is_409_in_both_versions(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        put = await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={"v": 1}, headers=client)

        blind = await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={"v": 2}, headers=client)
        matched = await progress.put(
            ACTIVITY_PROFILE,
            params=activity_profile(),
            json={"v": 3},
            headers=client | {"If-Match": put.headers["etag"]},
        )

        problem(blind, 409)
        assert matched.status_code == 204

    async def test_post_merges_without_concurrency_headers(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.post(ACTIVITY_PROFILE, params=activity_profile(), json={"a": 1}, headers=client)
        await progress.post(ACTIVITY_PROFILE, params=activity_profile(), json={"b": 2}, headers=client)

        read = await progress.get(ACTIVITY_PROFILE, params=activity_profile(), headers=client)
        assert read.json() == {"a": 1, "b": 2}

    async def test_if_none_match_star_is_412_once_it_exists(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        create = client | {"If-None-Match": "*"}
        await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=create)

        problem(await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=create), 412)

    async def test_delete_honours_if_match(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        put = await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=client)

        stale = await progress.delete(ACTIVITY_PROFILE, params=activity_profile(), headers=client | {"If-Match": '"0"'})
        fresh = await progress.delete(
            ACTIVITY_PROFILE, params=activity_profile(), headers=client | {"If-Match": put.headers["etag"]}
        )

        problem(stale, 412)
        assert fresh.status_code == 204
        problem(await progress.get(ACTIVITY_PROFILE, params=activity_profile(), headers=client), 404)

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"activityId": ACTIVITY}, "profileId"),
            (activity_profile(activityId="relative/path"), "activityId"),
            (activity_profile(agent=agent()), "agent"),
            (activity_profile(ProfileId="x"), "ProfileId"),
        ],
        ids=["no-profile-id", "activity-not-iri", "state-param", "wrong-case-param"],
    )
    async def test_bad_parameters_are_400(
        self, progress: httpx.AsyncClient, client: dict[str, str], params: dict[str, str], field: str
    ) -> None:
        bad_request(await progress.put(ACTIVITY_PROFILE, params=params, json={}, headers=client), field)

    async def test_learners_and_clients_without_the_profile_scope_may_not_write(
        self, progress: httpx.AsyncClient, tokens: TokenFactory, learner: dict[str, str], version: str
    ) -> None:
        state_only = tokens.headers("lms", "partner", scopes=("state",)) | {VERSION_HEADER: version}

        problem(await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=learner), 403)
        problem(await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=state_only), 403)

    async def test_another_tenant_cannot_read_it(
        self, progress: httpx.AsyncClient, client: dict[str, str], tokens: TokenFactory, version: str
    ) -> None:
        await progress.put(ACTIVITY_PROFILE, params=activity_profile(), json={}, headers=client)
        t2 = tokens.headers("lms", "partner", tenant="t2", scopes=("profile",)) | {VERSION_HEADER: version}

        problem(await progress.get(ACTIVITY_PROFILE, params=activity_profile(), headers=t2), 404)

    async def test_without_credentials_it_is_401(self, progress: httpx.AsyncClient, version: str) -> None:
        response = await progress.get(ACTIVITY_PROFILE, params=activity_profile(), headers={VERSION_HEADER: version})
        problem(response, 401)


class TestAgentProfile:
    async def test_a_client_stores_it_and_the_learner_reads_it(
        self, progress: httpx.AsyncClient, client: dict[str, str], learner: dict[str, str]
    ) -> None:
        put = await progress.put(AGENT_PROFILE, params=agent_profile(), json={"theme": "dark"}, headers=client)
        assert put.status_code == 204

        read = await progress.get(AGENT_PROFILE, params=agent_profile(), headers=learner)
        ids = await progress.get(AGENT_PROFILE, params={"agent": agent()}, headers=learner)

        assert read.json() == {"theme": "dark"}
        assert ids.json() == ["preferences"]

    async def test_a_blind_overwrite_is_409_in_both_versions(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        await progress.put(AGENT_PROFILE, params=agent_profile(), json={"v": 1}, headers=client)

        problem(await progress.put(AGENT_PROFILE, params=agent_profile(), json={"v": 2}, headers=client), 409)
        assert (await progress.get(AGENT_PROFILE, params=agent_profile(), headers=client)).json() == {"v": 1}

    async def test_post_merges(self, progress: httpx.AsyncClient, learner: dict[str, str]) -> None:
        await progress.post(AGENT_PROFILE, params=agent_profile(), json={"a": 1}, headers=learner)
        await progress.post(AGENT_PROFILE, params=agent_profile(), json={"a": 2, "b": 3}, headers=learner)

        read = await progress.get(AGENT_PROFILE, params=agent_profile(), headers=learner)
        assert read.json() == {"a": 2, "b": 3}

    async def test_a_learner_may_not_touch_another_learners_profile(
        self, progress: httpx.AsyncClient, client: dict[str, str], learner: dict[str, str]
    ) -> None:
        await progress.put(AGENT_PROFILE, params=agent_profile(learner="l-a2"), json={}, headers=client)

        problem(await progress.get(AGENT_PROFILE, params=agent_profile(learner="l-a2"), headers=learner), 403)
        problem(await progress.delete(AGENT_PROFILE, params=agent_profile(learner="l-a2"), headers=learner), 403)

    async def test_an_mbox_agent_is_matched_case_insensitively_in_the_domain(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        stored = {"agent": json.dumps({"mbox": "mailto:ada@Example.org"}), "profileId": "p"}
        await progress.put(AGENT_PROFILE, params=stored, json={"v": 1}, headers=client)

        lookup = {"agent": json.dumps({"mbox": "mailto:ada@example.org"}), "profileId": "p"}
        assert (await progress.get(AGENT_PROFILE, params=lookup, headers=client)).json() == {"v": 1}

    async def test_since_filters_and_is_checked(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        await progress.put(AGENT_PROFILE, params=agent_profile(), json={}, headers=client)
        past = {"agent": agent(), "since": "2020-01-01T00:00:00Z"}

        assert (await progress.get(AGENT_PROFILE, params=past, headers=client)).json() == ["preferences"]
        bad_request(await progress.get(AGENT_PROFILE, params=past | {"since": "soon"}, headers=client), "since")

    async def test_a_client_without_the_profile_scope_is_403(
        self, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("state",)) | {VERSION_HEADER: version}
        problem(await progress.get(AGENT_PROFILE, params=agent_profile(), headers=headers), 403)

    async def test_another_tenant_cannot_read_it(
        self, progress: httpx.AsyncClient, client: dict[str, str], tokens: TokenFactory, version: str
    ) -> None:
        await progress.put(AGENT_PROFILE, params=agent_profile(), json={}, headers=client)
        t2 = tokens.headers("lms", "partner", tenant="t2", scopes=("profile",)) | {VERSION_HEADER: version}

        assert (await progress.get(AGENT_PROFILE, params={"agent": agent()}, headers=t2)).json() == []

    async def test_without_the_version_header_it_is_400(
        self, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=("profile",))
        bad_request(await progress.get(AGENT_PROFILE, params=agent_profile(), headers=headers), VERSION_HEADER)


class TestGetPerson:
    async def test_the_person_holds_the_agents_name_and_identifier_as_arrays(
        self, progress: httpx.AsyncClient, learner: dict[str, str], version: str
    ) -> None:
        response = await progress.get("/xapi/agents", params={"agent": agent(name="Ada")}, headers=learner)

        assert response.status_code == 200
        assert response.json() == {
            "objectType": "Person",
            "name": ["Ada"],
            "account": [{"homePage": "https://lms.example", "name": "l-a1"}],
        }
        assert response.headers[VERSION_HEADER] == version

    async def test_an_mbox_agent_without_a_name(self, progress: httpx.AsyncClient, client: dict[str, str]) -> None:
        params = {"agent": json.dumps({"mbox": "mailto:ada@example.org"})}
        response = await progress.get("/xapi/agents", params=params, headers=client)

        assert response.json() == {"objectType": "Person", "mbox": ["mailto:ada@example.org"]}

    @pytest.mark.parametrize(
        "params",
        [{}, {"agent": "{}"}, {"agent": json.dumps({"objectType": "Group", "mbox": "mailto:team@example.org"})}],
        ids=["missing", "no-identifier", "group"],
    )
    async def test_a_missing_or_invalid_agent_is_400(
        self, progress: httpx.AsyncClient, client: dict[str, str], params: dict[str, str]
    ) -> None:
        bad_request(await progress.get("/xapi/agents", params=params, headers=client), "agent")

    async def test_without_credentials_it_is_401(self, progress: httpx.AsyncClient) -> None:
        response = await progress.get("/xapi/agents", params={"agent": agent()}, headers={VERSION_HEADER: "2.0.0"})
        problem(response, 401)


class TestGetActivity:
    async def test_an_unknown_activity_is_returned_bare(
        self, progress: httpx.AsyncClient, client: dict[str, str]
    ) -> None:
        response = await progress.get("/xapi/activities", params={"activityId": ACTIVITY}, headers=client)

        assert response.status_code == 200
        assert response.json() == {"objectType": "Activity", "id": ACTIVITY}

    async def test_the_canonical_definition_is_returned(
        self, apps: Apps, progress: httpx.AsyncClient, learner: dict[str, str]
    ) -> None:
        async with apps.progress.state.sessionmaker() as session:
            await documents.merge_activity_definitions(session, "t1", {ACTIVITY: {"name": {"en-US": "Fractions"}}})
            await session.commit()

        response = await progress.get("/xapi/activities", params={"activityId": ACTIVITY}, headers=learner)

        assert response.json() == {
            "objectType": "Activity",
            "id": ACTIVITY,
            "definition": {"name": {"en-US": "Fractions"}},
        }

    @pytest.mark.parametrize("params", [{}, {"activityId": "no scheme"}], ids=["missing", "not-iri"])
    async def test_a_missing_or_invalid_activity_id_is_400(
        self, progress: httpx.AsyncClient, client: dict[str, str], params: dict[str, str]
    ) -> None:
        bad_request(await progress.get("/xapi/activities", params=params, headers=client), "activityId")

    async def test_without_credentials_it_is_401(self, progress: httpx.AsyncClient) -> None:
        params = {"activityId": ACTIVITY}
        problem(await progress.get("/xapi/activities", params=params, headers={VERSION_HEADER: "1.0.3"}), 401)


CHOICE = {
    "name": {"en-US": "Which is larger?"},
    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "interactionType": "choice",
    "correctResponsesPattern": ["half"],
    "choices": [{"id": "half", "description": {"en-US": "1/2"}}, {"id": "third", "description": {"en-US": "1/3"}}],
}


class TestMergeActivityDefinitions:
    async def test_language_maps_merge_fields_update_and_answers_stay(self, apps: Apps) -> None:
        later = {
            "name": {"fr-FR": "Lequel est le plus grand ?"},
            "moreInfo": "https://lms.example/help",
            "correctResponsesPattern": ["third"],
            "choices": [{"id": "half", "description": {"fr-FR": "1/2"}}, {"id": "quarter"}],
        }
        async with apps.progress.state.sessionmaker() as session:
            await documents.merge_activity_definitions(session, "t1", {ACTIVITY: CHOICE, f"{ACTIVITY}/2": {}})
            await documents.merge_activity_definitions(session, "t1", {ACTIVITY: later})
            await session.commit()
            row = await session.get(ActivityDefinition, ("t1", ACTIVITY))
            empty = await session.get(ActivityDefinition, ("t1", f"{ACTIVITY}/2"))

        assert row is not None
        assert empty is None  # an activity named without a definition needs no row
        assert row.definition == {
            "name": {"en-US": "Which is larger?", "fr-FR": "Lequel est le plus grand ?"},
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "interactionType": "choice",
            "correctResponsesPattern": ["half"],
            "choices": [
                {"id": "half", "description": {"en-US": "1/2", "fr-FR": "1/2"}},
                {"id": "third", "description": {"en-US": "1/3"}},
            ],
            "moreInfo": "https://lms.example/help",
        }

    async def test_an_unchanged_definition_is_not_rewritten_and_tenants_stay_apart(self, apps: Apps) -> None:
        async with apps.progress.state.sessionmaker() as session:
            await documents.merge_activity_definitions(session, "t1", {ACTIVITY: CHOICE})
            await session.commit()
            first = await session.get(ActivityDefinition, ("t1", ACTIVITY))
            await documents.merge_activity_definitions(
                session, "t1", {ACTIVITY: {"name": {"en-US": "Which is larger?"}}}
            )
            await session.commit()
            session.expunge_all()
            again = await session.get(ActivityDefinition, ("t1", ACTIVITY))
            other_tenant = await session.get(ActivityDefinition, ("t2", ACTIVITY))

        assert first is not None
        assert again is not None
        assert again.updated_at == first.updated_at
        assert other_tenant is None

    def test_extensions_merge_per_key(self) -> None:
        merged = documents.merge_definition({"extensions": {"a": 1, "b": 2}}, {"extensions": {"b": 3}})
        assert merged == {"extensions": {"a": 1, "b": 3}}
