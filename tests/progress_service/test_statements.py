"""The xAPI Statement resource, write side: POST and PUT /xapi/statements (1.0.3 and 2.0.0).

Covers ids, immutability (same id: same content accepted once, other content 409), all-or-nothing
batches, validation errors naming the property, the properties the LRS sets, voiding, attachments,
1.0.3's alternate request syntax, who may write, and the mastery and events a statement brings.
Reading (filters, formats, paging, headers) is in `test_statement_queries`.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches `l-a1`, `l-a2` (school `s1`);
teacher `t-b` teaches `l-b1` (school `s2`).
"""

import hashlib
import json
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from services.progress_service.db import outbox
from services.progress_service.models import Statement
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import problem
from tests.statements import (
    AUTHORITY_HOME_PAGE,
    BOUNDARY,
    COMPETENCY,
    READ,
    VERSIONS,
    WRITE_READ,
    account,
    attachment_object,
    basic,
    client_credentials,
    fetch,
    ids_of,
    lms,
    multipart,
    new_id,
    parts_of,
    record,
    statement,
    voiding,
    xapi,
)
from tests.tokens import TokenFactory

STATEMENT_VERSION = {"1.0.3": "1.0.0", "2.0.0": "2.0.0"}
"""The `version` the LRS writes on a statement sent without one, per request version."""


async def stored_bodies(apps: Apps, tenant: str = "t1") -> dict[str, dict[str, Any]]:
    """The statements stored for `tenant`, by id."""
    async with apps.progress.state.sessionmaker() as session:
        rows = await session.exec(select(Statement.id, Statement.body).where(col(Statement.tenant_id) == tenant))
        return dict(rows.all())


async def outbox_events(apps: Apps, event_type: str) -> list[dict[str, Any]]:
    """The progress outbox rows of `event_type`, oldest first."""
    async with apps.progress.state.engine.connect() as conn:
        query = sa.select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.seq)
        return [dict(row._mapping) for row in await conn.execute(query)]


async def get_one(progress: httpx.AsyncClient, headers: dict[str, str], statement_id: str) -> dict[str, Any]:
    """GET one statement by statementId (200 expected)."""
    response = await progress.get("/xapi/statements", params={"statementId": statement_id}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def mastery_rows(progress: httpx.AsyncClient, tokens: TokenFactory, learner: str) -> list[dict[str, Any]]:
    """The learner's estimates as their teacher `t-a` reads them (`GET /learners/{id}/mastery`)."""
    response = await progress.get(f"/learners/{learner}/mastery", headers=tokens.headers("t-a", "teacher"))
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


def refused(response: httpx.Response, status: int = 400) -> str:
    """The `field` a refusal names, after checking its status and that the version header is echoed."""
    assert "x-experience-api-version" in response.headers
    field: str = problem(response, status)["field"]
    return field


class TestPostStatements:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_one_statement_is_stored_under_a_generated_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        ids = await record(progress, lms(tokens, version), statement())

        assert len(ids) == 1
        assert str(uuid.UUID(ids[0])) == ids[0]
        assert list(await stored_bodies(apps)) == ids

    async def test_a_list_gets_its_ids_in_order_with_ids_made_where_absent(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        first, last = new_id(), new_id()
        batch = [statement(id=first), statement("l-a2"), statement("l-b1", id=last.upper())]

        ids = await record(progress, lms(tokens), batch)

        assert (ids[0], ids[2]) == (first, last)
        assert str(uuid.UUID(ids[1])) == ids[1]
        assert ids[1] not in (first, last)
        bodies = await stored_bodies(apps)
        assert [bodies[i]["actor"]["account"]["name"] for i in ids] == ["l-a1", "l-a2", "l-b1"]

    async def test_the_same_statement_again_is_accepted_and_stored_once(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(id=new_id())
        first = await record(progress, lms(tokens), body)

        again = await record(progress, lms(tokens), body)

        assert again == first
        assert list(await stored_bodies(apps)) == first
        assert len(await outbox_events(apps, "progress.statements.recorded")) == 1
        assert len(await outbox_events(apps, "mastery.updated")) == 1

    async def test_the_same_id_with_other_content_is_a_conflict_that_changes_nothing(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        statement_id = new_id()
        await record(progress, lms(tokens), statement(id=statement_id))
        before = await stored_bodies(apps)
        batch = [statement("l-a2"), statement(id=statement_id, success=False)]

        response = await progress.post("/xapi/statements", json=batch, headers=lms(tokens))

        assert refused(response, 409) == "id"
        assert await stored_bodies(apps) == before
        assert len(await outbox_events(apps, "mastery.updated")) == 1

    async def test_a_batch_repeating_an_id_is_refused_whole(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        same = new_id()
        response = await progress.post("/xapi/statements", json=[statement(id=same)] * 2, headers=lms(tokens))

        assert refused(response) == "id"
        assert await stored_bodies(apps) == {}

    async def test_one_invalid_statement_rejects_the_whole_batch(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement(), statement(verb={"id": "answered"}), statement("l-a2")]
        response = await progress.post("/xapi/statements", json=batch, headers=lms(tokens))

        assert refused(response) == "[1].verb.id"
        assert await stored_bodies(apps) == {}
        assert await outbox_events(apps, "progress.statements.recorded") == []

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"object": {"id": "https://lms.example/items/" + "x" * 2_100}}, "activity"),
            ({"object": {"id": "https://lms.example/items/" + "é" * 1_400}}, "activity"),  # 2,800 bytes
            ({"verb": {"id": "https://lms.example/verbs/" + "v" * 2_100}}, "verb.id"),
            ({"actor": {"account": {"homePage": "https://lms.example", "name": "n" * 1_100}}}, "agent"),
        ],
        ids=["long-activity", "wide-activity", "long-verb", "long-agent"],
    )
    async def test_identifiers_longer_than_the_lrs_stores_are_a_400_and_nothing_is_stored(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, fields: dict[str, Any], field: str
    ) -> None:
        response = await progress.post("/xapi/statements", json=[statement(), statement(**fields)], headers=lms(tokens))

        assert refused(response) == field
        assert await stored_bodies(apps) == {}

    @pytest.mark.parametrize(
        ("content", "field"),
        [(b"{not json", "body"), (b"[]", "statements"), (b'"a statement"', "body")],
        ids=["not-json", "empty-list", "not-an-object"],
    )
    async def test_a_body_that_is_not_statements_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, content: bytes, field: str
    ) -> None:
        headers = lms(tokens) | {"Content-Type": "application/json"}
        response = await progress.post("/xapi/statements", content=content, headers=headers)

        assert refused(response) == field


class TestPutStatement:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_a_statement_is_stored_under_statement_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        statement_id = new_id()
        response = await progress.put(
            "/xapi/statements", params={"statementId": statement_id}, json=statement(), headers=lms(tokens, version)
        )

        assert response.status_code == 204, response.text
        assert response.content == b""
        assert (await get_one(progress, lms(tokens, version), statement_id))["id"] == statement_id

    @pytest.mark.parametrize("params", [{}, {"statementId": "statement-1"}], ids=["missing", "not-a-uuid"])
    async def test_statement_id_must_be_a_uuid(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, params: dict[str, str]
    ) -> None:
        response = await progress.put("/xapi/statements", params=params, json=statement(), headers=lms(tokens))

        assert refused(response) == "statementId"
        assert await stored_bodies(apps) == {}

    async def test_a_body_id_other_than_statement_id_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.put(
            "/xapi/statements", params={"statementId": new_id()}, json=statement(id=new_id()), headers=lms(tokens)
        )

        assert refused(response) == "id"
        assert await stored_bodies(apps) == {}

    async def test_a_list_is_refused(self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await progress.put(
            "/xapi/statements", params={"statementId": new_id()}, json=[statement()], headers=lms(tokens)
        )

        assert refused(response) == "statement"

    async def test_the_same_statement_again_is_204_and_stored_once(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        statement_id = new_id()
        answers = [
            await progress.put(
                "/xapi/statements", params={"statementId": statement_id}, json=statement(), headers=lms(tokens)
            )
            for _ in range(2)
        ]

        assert [a.status_code for a in answers] == [204, 204]
        assert list(await stored_bodies(apps)) == [statement_id]
        assert len(await outbox_events(apps, "progress.statements.recorded")) == 1

    async def test_other_content_under_a_stored_id_is_a_conflict(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        statement_id = new_id()
        await record(progress, lms(tokens), statement(id=statement_id))
        before = await stored_bodies(apps)

        response = await progress.put(
            "/xapi/statements", params={"statementId": statement_id}, json=statement("l-a2"), headers=lms(tokens)
        )

        assert refused(response, 409) == "id"
        assert await stored_bodies(apps) == before


class TestStatementValidation:
    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"verb": {"id": "answered"}}, "verb.id"),
            ({"actor": {**account("l-a1"), "mbox": "mailto:l-a1@example.org"}}, "actor"),
            ({"result": {"score": {"scaled": 1.5}}}, "result.score.scaled"),
            ({"result": {"score": {"raw": 11, "min": 0, "max": 10}}}, "result.score.raw"),
            ({"mood": "happy"}, "mood"),
            ({"timestamp": "yesterday at noon"}, "timestamp"),
            ({"timestamp": "2025-03-01T09:30:00-00:00"}, "timestamp"),
            (
                {"object": {"id": "https://lms.example/1", "definition": {"name": {"not a tag": "x"}}}},
                "object.definition.name.not a tag",
            ),
            ({"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}, "object"),
        ],
        ids=[
            "verb-not-an-iri",
            "actor-with-two-ifis",
            "scaled-above-1",
            "raw-above-max",
            "unknown-property",
            "timestamp-not-a-time",
            "timestamp-negative-zero-offset",
            "bad-language-tag",
            "voiding-an-activity",
        ],
    )
    async def test_a_broken_rule_is_a_400_naming_the_property(
        self,
        apps: Apps,
        progress: httpx.AsyncClient,
        tokens: TokenFactory,
        version: str,
        fields: dict[str, Any],
        field: str,
    ) -> None:
        response = await progress.post("/xapi/statements", json=statement(**fields), headers=lms(tokens, version))

        assert refused(response) == field
        assert await stored_bodies(apps) == {}

    @pytest.mark.parametrize(("version", "status"), [("1.0.3", 200), ("2.0.0", 400)])
    async def test_a_timestamp_without_a_zone_is_1_0_3_only(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str, status: int
    ) -> None:
        # 1.0.3 asks for ISO 8601 (the zone is a SHOULD); 2.0 requires RFC 3339 with an offset.
        body = statement(timestamp="2025-03-01T09:30:00")
        response = await progress.post("/xapi/statements", json=body, headers=lms(tokens, version))

        assert response.status_code == status, response.text
        if status == 400:
            assert refused(response) == "timestamp"

    @pytest.mark.parametrize(("version", "status"), [("1.0.3", 400), ("2.0.0", 200)])
    async def test_context_agents_are_2_0_only(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str, status: int
    ) -> None:
        context = {"contextAgents": [{"objectType": "contextAgent", "agent": account("t-a")}]}
        response = await progress.post(
            "/xapi/statements", json=statement(context=context), headers=lms(tokens, version)
        )

        assert response.status_code == status, response.text
        if status == 400:
            assert refused(response) == "context.contextAgents"


class TestLrsSetProperties:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_stored_authority_version_and_timestamp_are_set_by_the_lrs(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        sent = statement(
            authority={"objectType": "Agent", "mbox": "mailto:someone-else@example.org"},
            stored="2001-01-01T00:00:00.000Z",
        )
        (statement_id,) = await record(progress, lms(tokens, version), sent)

        got = await get_one(progress, lms(tokens, version), statement_id)

        assert got["authority"] == {"objectType": "Agent", "account": {"homePage": AUTHORITY_HOME_PAGE, "name": "lms"}}
        assert got["stored"] != sent["stored"]
        assert got["timestamp"] == got["stored"]
        assert got["version"] == STATEMENT_VERSION[version]
        lrs_set = {"id", "stored", "authority", "version", "timestamp"}
        assert {k: v for k, v in got.items() if k not in lrs_set} == {k: v for k, v in sent.items() if k not in lrs_set}

    async def test_a_sent_timestamp_and_version_are_kept(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (statement_id,) = await record(progress, lms(tokens), statement(timestamp="2025-03-01T09:30:00.250Z"))
        (other_id,) = await record(progress, lms(tokens, "1.0.3"), statement(version="1.0.1"))

        assert (await get_one(progress, lms(tokens), statement_id))["timestamp"] == "2025-03-01T09:30:00.250Z"
        assert (await get_one(progress, lms(tokens), other_id))["version"] == "1.0.1"


class TestVoiding:
    async def test_a_voided_statement_is_hidden_but_read_by_voided_statement_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (target,) = await record(progress, lms(tokens), statement())
        (voider,) = await record(progress, lms(tokens), voiding(target))

        listed = await fetch(progress, lms(tokens))
        by_id = await progress.get("/xapi/statements", params={"statementId": target}, headers=lms(tokens))
        by_voided_id = await progress.get("/xapi/statements", params={"voidedStatementId": target}, headers=lms(tokens))

        assert ids_of(listed) == [voider]
        assert refused(by_id, 404) == "statementId"
        assert by_voided_id.status_code == 200, by_voided_id.text
        assert by_voided_id.json()["id"] == target
        assert (await get_one(progress, lms(tokens), voider))["object"] == {"objectType": "StatementRef", "id": target}

    async def test_voided_statement_id_does_not_find_a_statement_that_is_not_voided(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (target,) = await record(progress, lms(tokens), statement())

        response = await progress.get("/xapi/statements", params={"voidedStatementId": target}, headers=lms(tokens))

        assert refused(response, 404) == "voidedStatementId"

    @pytest.mark.parametrize("same_batch", [False, True])
    async def test_a_voiding_statement_cannot_be_voided(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, same_batch: bool
    ) -> None:
        (target,) = await record(progress, lms(tokens), statement())
        first = voiding(target) | {"id": new_id()}
        batch = [first, voiding(first["id"])]
        if not same_batch:
            await record(progress, lms(tokens), batch.pop(0))
        before = await stored_bodies(apps)

        response = await progress.post("/xapi/statements", json=batch, headers=lms(tokens))

        assert refused(response) == "object.id"
        assert await stored_bodies(apps) == before

    async def test_a_voiding_statement_arriving_first_hides_its_target_when_it_arrives(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        target = new_id()
        (voider,) = await record(progress, lms(tokens), voiding(target))

        response = await progress.put(
            "/xapi/statements", params={"statementId": target}, json=statement(), headers=lms(tokens)
        )

        assert response.status_code == 204, response.text
        assert ids_of(await fetch(progress, lms(tokens))) == [voider]
        hidden = await progress.get("/xapi/statements", params={"statementId": target}, headers=lms(tokens))
        assert hidden.status_code == 404
        found = await progress.get("/xapi/statements", params={"voidedStatementId": target}, headers=lms(tokens))
        assert found.status_code == 200, found.text
        assert await outbox_events(apps, "mastery.updated") == []


class TestAttachments:
    async def test_an_attachment_comes_back_byte_for_byte(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        content = b"\x00\xff\xfe worked solution \r\n\x89PNG"
        body = statement(id=new_id(), attachments=[attachment_object(content)])
        headers = lms(tokens) | {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
        posted = await progress.post(
            "/xapi/statements", content=multipart(body, ("application/octet-stream", content)), headers=headers
        )
        assert posted.status_code == 200, posted.text

        response = await progress.get(
            "/xapi/statements", params={"statementId": body["id"], "attachments": "true"}, headers=lms(tokens)
        )

        assert response.status_code == 200, response.text
        (json_headers, json_part), (attachment_headers, attachment) = parts_of(response)
        assert json_headers["content-type"] == "application/json"
        assert json.loads(json_part)["attachments"] == body["attachments"]
        assert attachment_headers["x-experience-api-hash"] == hashlib.sha256(content).hexdigest()
        assert attachment_headers["content-transfer-encoding"] == "binary"
        assert attachment == content

    async def test_a_list_with_attachments_is_multipart_and_without_is_json(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        content = b"%PDF-1.7 page one"
        body = statement(attachments=[attachment_object(content, "application/pdf")])
        headers = lms(tokens) | {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
        posted = await progress.post(
            "/xapi/statements", content=multipart([body], ("application/pdf", content)), headers=headers
        )
        assert posted.status_code == 200, posted.text

        with_data = await progress.get("/xapi/statements", params={"attachments": "true"}, headers=lms(tokens))
        without = await progress.get("/xapi/statements", params={"attachments": "false"}, headers=lms(tokens))

        parts = parts_of(with_data)
        assert [content for _, content in parts[1:]] == [content]
        assert parts[1][0]["content-type"] == "application/pdf"
        assert without.headers["content-type"] == "application/json"
        assert ids_of(without.json()) == posted.json()

    async def test_an_attachment_without_its_part_or_file_url_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(attachments=[attachment_object(b"never sent")])
        response = await progress.post("/xapi/statements", json=body, headers=lms(tokens))

        assert refused(response) == "attachments"
        assert await stored_bodies(apps) == {}

    async def test_a_part_whose_hash_does_not_match_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(attachments=[attachment_object(b"what was hashed")])
        raw = multipart(body, ("application/octet-stream", b"what was hashed")).replace(b"was hashed", b"was sent!!")
        headers = lms(tokens) | {"Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}

        response = await progress.post("/xapi/statements", content=raw, headers=headers)

        assert refused(response) == "attachments"
        assert await stored_bodies(apps) == {}


class TestAlternateRequestSyntax:
    def form(self, tokens: TokenFactory, version: str, statement_id: str) -> dict[str, str]:
        """The form of a PUT statement sent as `POST ?method=PUT`, headers included."""
        return {
            "statementId": statement_id,
            "content": json.dumps(statement()),
            "X-Experience-API-Version": version,
            "Authorization": tokens.headers("lms", "partner", scopes=WRITE_READ)["Authorization"],
            "Content-Type": "application/json",
        }

    async def test_a_put_sent_as_a_form_post_is_stored_under_1_0_3(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        statement_id = new_id()
        response = await progress.post(
            "/xapi/statements?method=PUT",
            content=urlencode(self.form(tokens, "1.0.3", statement_id)),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

        assert response.status_code == 204, response.text
        assert response.headers["x-experience-api-version"] == "1.0.3"
        assert list(await stored_bodies(apps)) == [statement_id]

    async def test_the_syntax_is_refused_under_2_0_0(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post(
            "/xapi/statements?method=PUT",
            content=urlencode(self.form(tokens, "2.0.0", new_id())),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

        assert refused(response) == "X-Experience-API-Version"
        assert response.headers["x-experience-api-version"] == "2.0.0"
        assert await stored_bodies(apps) == {}


class TestWriteAccess:
    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await progress.post("/xapi/statements", json=statement(), headers=unauthenticated | xapi("1.0.3"))

        problem(response, 401)
        assert response.headers["x-experience-api-version"] == "1.0.3"
        assert await stored_bodies(apps) == {}

    async def test_an_api_client_records_with_basic_credentials(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        client_id, basic = await client_credentials(apps.profile, "t1", WRITE_READ)

        (statement_id,) = await record(progress, basic | xapi("1.0.3"), statement())

        got = await get_one(progress, basic | xapi("1.0.3"), statement_id)
        assert got["authority"]["account"] == {"homePage": AUTHORITY_HOME_PAGE, "name": client_id}

    async def test_basic_credentials_with_a_wrong_secret_are_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        client_id, _ = await client_credentials(apps.profile, "t1", WRITE_READ)

        response = await progress.post("/xapi/statements", json=statement(), headers=basic(client_id, "guess") | xapi())

        problem(response, 401)
        assert response.headers["x-experience-api-version"] == "2.0.0"
        assert await stored_bodies(apps) == {}

    async def test_a_client_without_statements_write_is_forbidden(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, basic = await client_credentials(apps.profile, "t1", READ)

        response = await progress.post("/xapi/statements", json=statement(), headers=basic | xapi())

        problem(response, 403)
        assert await stored_bodies(apps) == {}

    async def test_a_learner_records_statements_about_themselves(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        ids = await record(progress, tokens.headers("l-a1", "learner") | xapi(), [statement("l-a1")] * 2)

        assert set(await stored_bodies(apps)) == set(ids)

    async def test_a_learner_may_not_record_about_another_learner(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement("l-a1"), statement("l-a2")]
        response = await progress.post(
            "/xapi/statements", json=batch, headers=tokens.headers("l-a1", "learner") | xapi()
        )

        assert refused(response, 403) == "actor"
        assert await stored_bodies(apps) == {}

    async def test_a_learner_may_not_void_another_learners_statement(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # The voiding statement's actor is the learner, but what it changes is a classmate's record.
        (theirs,) = await record(progress, lms(tokens), statement("l-a2"))
        before = await stored_bodies(apps)

        response = await progress.post(
            "/xapi/statements", json=voiding(theirs, "l-a1"), headers=tokens.headers("l-a1", "learner") | xapi()
        )

        problem(response, 403)
        assert await stored_bodies(apps) == before
        assert ids_of(await fetch(progress, lms(tokens))) == [theirs]

    async def test_a_teacher_may_not_record(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post(
            "/xapi/statements", json=statement(), headers=tokens.headers("t-a", "teacher") | xapi()
        )

        problem(response, 403)

    async def test_another_tenant_may_store_the_same_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        statement_id = new_id()
        await record(progress, lms(tokens), statement(id=statement_id))
        _, t2 = await client_credentials(apps.profile, "t2", WRITE_READ)

        assert await record(progress, t2 | xapi(), statement("l-b1", id=statement_id)) == [statement_id]
        bodies = [(await stored_bodies(apps, tenant))[statement_id] for tenant in ("t1", "t2")]
        assert [body["actor"]["account"]["name"] for body in bodies] == ["l-a1", "l-b1"]


class TestMasteryFromStatements:
    @pytest.mark.parametrize("where", ["object.definition", "context"])
    async def test_correct_answers_create_then_raise_the_estimate(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, where: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        body = statement(competency=None, result={"success": True})
        if where == "context":
            body["context"] = {"extensions": {COMPETENCY: "3.NF.A.1"}}
        else:
            body["object"]["definition"] = {"extensions": {COMPETENCY: "3.NF.A.1"}}

        await record(progress, lms(tokens), body)
        (first,) = await mastery_rows(progress, tokens, "l-a1")
        await record(progress, lms(tokens), body)
        (second,) = await mastery_rows(progress, tokens, "l-a1")

        assert (first["competencyId"], first["evidenceCount"], second["evidenceCount"]) == ("3.NF.A.1", 1, 2)
        assert 0 < first["estimate"] < second["estimate"]

    async def test_a_statement_without_a_competency_moves_no_estimate(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, lms(tokens), [statement(competency=None), statement(success=None)])

        assert await mastery_rows(progress, tokens, "l-a1") == []
        assert await outbox_events(apps, "mastery.updated") == []

    async def test_each_batch_and_each_estimate_change_is_an_outbox_event(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        ids = await record(progress, lms(tokens), [statement(), statement("l-a2", success=False)])

        recorded = await outbox_events(apps, "progress.statements.recorded")
        updated = await outbox_events(apps, "mastery.updated")

        assert [(e["tenant_id"], e["subject_id"], e["data"]) for e in recorded] == [
            ("t1", "lms", {"statementIds": ids, "learnerIds": ["l-a1", "l-a2"]}),
        ]
        assert [(e["subject_id"], e["data"]["competencyId"], e["data"]["statementId"]) for e in updated] == [
            ("l-a1", "3.NF.A.1", ids[0]),
            ("l-a2", "3.NF.A.1", ids[1]),
        ]
        assert all(e["published_at"] is None for e in recorded + updated)

    async def test_voiding_a_statement_replays_the_estimate_without_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, lms(tokens), statement())
        (before,) = await mastery_rows(progress, tokens, "l-a1")
        (wrong,) = await record(progress, lms(tokens), statement(success=False))
        (moved,) = await mastery_rows(progress, tokens, "l-a1")

        await record(progress, lms(tokens), voiding(wrong))

        (after,) = await mastery_rows(progress, tokens, "l-a1")
        assert moved["estimate"] != pytest.approx(before["estimate"])
        assert after["estimate"] == pytest.approx(before["estimate"])
        assert (after["evidenceCount"], after["status"]) == (before["evidenceCount"], before["status"])
        last = (await outbox_events(apps, "mastery.updated"))[-1]["data"]
        assert (last["old"], last["new"]) == (pytest.approx(moved["estimate"]), pytest.approx(before["estimate"]))
