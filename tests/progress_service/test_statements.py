"""The progress service: recording xAPI statements, the mastery they move, and reading mastery back.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches `l-a1`, `l-a2` (school `s1`);
teacher `t-b` teaches `l-b1` (school `s2`); guardian `g-a1` of `l-a1`; admin `admin`.
"""

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from services.progress_service import bkt
from services.progress_service.db import outbox
from services.progress_service.models import Mastery, Statement
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.statements import ANSWERED, WRITE, statement
from tests.tokens import TokenFactory


def recorded_ids(response: httpx.Response) -> list[str]:
    """The statement ids of a 200 answer to `POST /statements`."""
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def stored_ids(apps: Apps, tenant: str = "t1") -> set[str]:
    """Ids of the statements stored for `tenant`."""
    async with apps.progress.state.sessionmaker() as session:
        rows = await session.exec(select(Statement.id).where(col(Statement.tenant_id) == tenant))
        return set(rows)


async def mastery_of(apps: Apps, learner: str, competency: str, tenant: str = "t1") -> Mastery | None:
    """The stored mastery estimate of one learner and competency."""
    async with apps.progress.state.sessionmaker() as session:
        row: Mastery | None = await session.get(Mastery, (tenant, learner, competency))
        return row


async def outbox_events(apps: Apps, event_type: str) -> list[dict[str, Any]]:
    """The progress outbox rows of `event_type`, oldest first."""
    async with apps.progress.state.engine.connect() as conn:
        query = sa.select(outbox).where(outbox.c.type == event_type).order_by(outbox.c.seq)
        return [dict(row._mapping) for row in await conn.execute(query)]


class TestRecordStatements:
    async def test_a_partner_with_the_write_scope_records_one_statement(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        response = await progress.post("/statements", json=statement(), headers=lms)

        ids = recorded_ids(response)
        assert len(ids) == 1
        async with apps.progress.state.sessionmaker() as session:
            row = await session.get(Statement, ("t1", ids[0]))
        assert row is not None
        assert (row.learner_id, row.verb_id, row.success) == ("l-a1", ANSWERED, True)
        assert row.object_id == "https://lms.example/items/3.NF.A.1"
        assert row.body["id"] == ids[0]

    async def test_a_partner_records_a_list_and_gets_the_ids_in_order(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        batch = [statement(id=first), statement("l-a2", id=second), statement("l-b1")]
        response = await progress.post(
            "/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE)
        )

        ids = recorded_ids(response)
        assert ids[:2] == [first, second]
        assert len(ids) == 3
        assert await stored_ids(apps) == set(ids)

    async def test_generated_ids_are_distinct_uuids(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement() for _ in range(3)]
        response = await progress.post(
            "/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE)
        )

        ids = recorded_ids(response)
        assert len(set(ids)) == 3
        assert all(str(uuid.UUID(i)) == i for i in ids)

    async def test_the_all_scope_also_allows_writing(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post(
            "/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=("all",))
        )

        assert len(recorded_ids(response)) == 1

    async def test_a_learner_records_their_own_statement(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post("/statements", json=statement("l-a1"), headers=tokens.headers("l-a1", "learner"))

        assert await stored_ids(apps) == set(recorded_ids(response))

    async def test_a_learner_may_not_record_for_another_learner(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post("/statements", json=statement("l-a2"), headers=tokens.headers("l-a1", "learner"))

        assert problem(response, 403)["field"] == "actor"
        assert await stored_ids(apps) == set()

    async def test_a_learner_may_not_slip_another_learner_into_a_batch(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement("l-a1"), statement("l-a2")]
        response = await progress.post("/statements", json=batch, headers=tokens.headers("l-a1", "learner"))

        problem(response, 403)
        assert await stored_ids(apps) == set()
        assert await mastery_of(apps, "l-a1", "3.NF.A.1") is None

    async def test_a_learner_identified_by_mbox_may_not_record(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(actor={"mbox": "mailto:l-a1@example.org"})
        response = await progress.post("/statements", json=body, headers=tokens.headers("l-a1", "learner"))

        problem(response, 403)

    async def test_a_partner_without_the_write_scope_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner"))

        problem(response, 403)
        assert await stored_ids(apps) == set()

    async def test_a_teacher_is_refused(self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory) -> None:
        response = await progress.post("/statements", json=statement(), headers=tokens.headers("t-a", "teacher"))

        problem(response, 403)
        assert await stored_ids(apps) == set()

    async def test_the_same_id_twice_in_one_batch_is_a_bad_request(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        same = str(uuid.uuid4())
        batch = [statement(id=same), statement(id=same)]
        response = await progress.post(
            "/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE)
        )

        assert problem(response, 400)["field"] == "id"
        assert await stored_ids(apps) == set()

    async def test_an_id_already_stored_is_a_conflict_and_nothing_of_the_batch_is_stored(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        old = recorded_ids(await progress.post("/statements", json=statement(), headers=lms))[0]
        fresh = str(uuid.uuid4())
        batch = [statement("l-a2", id=fresh), statement(id=old)]

        response = await progress.post("/statements", json=batch, headers=lms)

        body = problem(response, 409)
        assert body["field"] == "id"
        assert old in body["detail"]
        assert await stored_ids(apps) == {old}
        assert await mastery_of(apps, "l-a2", "3.NF.A.1") is None
        before = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert before is not None
        assert before.evidence_count == 1
        assert len(await outbox_events(apps, "progress.statement.recorded")) == 1

    async def test_statement_ids_are_unique_per_tenant(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        same = str(uuid.uuid4())
        for tenant in ("t1", "t2"):
            lms = tokens.headers("lms", "partner", tenant=tenant, scopes=WRITE)
            assert recorded_ids(await progress.post("/statements", json=statement(id=same), headers=lms)) == [same]

        assert await stored_ids(apps, "t1") == await stored_ids(apps, "t2") == {same}

    async def test_a_missing_verb_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement()
        del body["verb"]
        response = await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))

        assert invalid_fields(response) == ["verb"]

    async def test_a_verb_id_that_is_not_a_url_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(verb={"id": "answered"})
        response = await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))

        assert invalid_fields(response) == ["verb.id"]

    async def test_an_actor_with_both_account_and_mbox_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        actor = {"account": {"homePage": "https://lms.example", "name": "l-a1"}, "mbox": "mailto:l-a1@example.org"}
        response = await progress.post(
            "/statements", json=statement(actor=actor), headers=tokens.headers("lms", "partner", scopes=WRITE)
        )

        assert invalid_fields(response) == ["actor"]

    async def test_a_scaled_score_above_one_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(result={"score": {"scaled": 2}})
        response = await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))

        assert invalid_fields(response) == ["result.score.scaled"]

    async def test_an_id_that_is_not_a_uuid_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(id="statement-1")
        response = await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))

        assert invalid_fields(response) == ["id"]

    async def test_an_invalid_statement_in_a_list_is_named_by_its_position_and_field(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        broken = statement()
        del broken["verb"]
        batch = [statement(), broken]
        response = await progress.post(
            "/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE)
        )

        fields = invalid_fields(response)
        assert [f.split(".")[-2:] for f in fields] == [["1", "verb"]], fields
        assert await stored_ids(apps) == set()

    async def test_a_timestamp_without_a_time_zone_is_not_a_server_error(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(timestamp="2025-03-01T09:30:00")
        response = await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))

        # Either read as UTC (200) or refused naming the field (422); never a 500.
        if response.status_code == 422:
            assert invalid_fields(response) == ["timestamp"]
        else:
            assert len(recorded_ids(response)) == 1

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await progress.post("/statements", json=statement(), headers=unauthenticated)

        problem(response, 401)
        assert await stored_ids(apps) == set()


class TestMasteryFromStatements:
    async def test_three_correct_answers_master_a_competency(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        for _ in range(3):
            recorded_ids(await progress.post("/statements", json=statement(), headers=lms))

        mastery = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert mastery is not None
        assert (mastery.status, mastery.evidence_count) == ("mastered", 3)
        expected = bkt.BktParams().prior
        for _ in range(3):
            expected = bkt.update(expected, True, bkt.BktParams())
        assert mastery.estimate == pytest.approx(expected)

    async def test_two_correct_answers_are_not_yet_mastery(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement(), statement()]
        recorded_ids(
            await progress.post("/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        mastery = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert mastery is not None
        assert (mastery.status, mastery.evidence_count) == ("in_progress", 2)

    async def test_a_wrong_answer_lowers_the_estimate(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        recorded_ids(await progress.post("/statements", json=[statement(), statement()], headers=lms))
        before = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert before is not None

        recorded_ids(await progress.post("/statements", json=statement(success=False), headers=lms))

        after = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert after is not None
        assert after.estimate < before.estimate
        assert (after.status, after.evidence_count) == ("in_progress", 3)

    async def test_a_wrong_answer_takes_mastery_away(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        batch = [statement(), statement(), statement(), statement(success=False)]
        recorded_ids(await progress.post("/statements", json=batch, headers=lms))

        mastery = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert mastery is not None
        assert mastery.status == "in_progress"

    @pytest.mark.parametrize(("scaled", "counts_as_correct"), [(0.9, True), (0.5, True), (0.49, False), (-1, False)])
    async def test_a_scaled_score_counts_as_correct_from_one_half(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, scaled: float, counts_as_correct: bool
    ) -> None:
        body = statement(success=None, result={"score": {"scaled": scaled}})
        recorded_ids(
            await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        mastery = await mastery_of(apps, "l-a1", "3.NF.A.1")
        assert mastery is not None
        prior = bkt.BktParams().prior
        assert mastery.estimate == pytest.approx(bkt.update(prior, counts_as_correct, bkt.BktParams()))

    async def test_a_statement_for_several_competencies_moves_each(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        body = statement(competency=["3.NF.A.1", "3.NF.A.2"])
        recorded_ids(
            await progress.post("/statements", json=body, headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        for competency in ("3.NF.A.1", "3.NF.A.2"):
            mastery = await mastery_of(apps, "l-a1", competency)
            assert mastery is not None
            assert mastery.evidence_count == 1

    async def test_a_statement_without_a_result_or_competency_is_stored_without_moving_mastery(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        batch = [statement(success=None), statement(competency=None)]
        ids = recorded_ids(
            await progress.post("/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        assert await stored_ids(apps) == set(ids)
        assert await mastery_of(apps, "l-a1", "3.NF.A.1") is None
        assert await outbox_events(apps, "mastery.updated") == []

    async def test_mastery_is_kept_per_tenant(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        recorded_ids(await progress.post("/statements", json=[statement()] * 3, headers=lms))

        assert await mastery_of(apps, "l-a1", "3.NF.A.1", tenant="t2") is None

    async def test_each_statement_and_each_mastery_change_is_an_outbox_event(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        batch = [statement(), statement(success=False)]
        ids = recorded_ids(await progress.post("/statements", json=batch, headers=lms))

        recorded = await outbox_events(apps, "progress.statement.recorded")
        assert [(e["tenant_id"], e["subject_id"], e["data"]) for e in recorded] == [
            ("t1", "l-a1", {"statementId": ids[0]}),
            ("t1", "l-a1", {"statementId": ids[1]}),
        ]
        updated = await outbox_events(apps, "mastery.updated")
        assert [(e["tenant_id"], e["subject_id"], e["data"]["competencyId"]) for e in updated] == [
            ("t1", "l-a1", "3.NF.A.1"),
            ("t1", "l-a1", "3.NF.A.1"),
        ]
        first, second = (e["data"] for e in updated)
        params = bkt.BktParams()
        assert first["old"] == pytest.approx(params.prior)
        assert first["new"] == pytest.approx(bkt.update(params.prior, True, params))
        assert second["old"] == pytest.approx(first["new"])
        assert second["new"] < second["old"]
        assert (first["status"], second["status"]) == ("in_progress", "in_progress")
        assert all(e["published_at"] is None for e in recorded + updated)

    async def test_simultaneous_answers_on_a_new_competency_all_count(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # A race, so it is run for several competencies: every answer must be stored and counted, none a 500.
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        competencies = ("3.NF.A.1", "3.NF.A.2", "3.NF.A.3")
        outcomes: list[tuple[list[int], int | None]] = []
        for competency in competencies:
            answers = await asyncio.gather(
                *(progress.post("/statements", json=statement(competency=competency), headers=lms) for _ in range(4))
            )
            mastery = await mastery_of(apps, "l-a1", competency)
            outcomes.append(([r.status_code for r in answers], mastery.evidence_count if mastery else None))

        assert outcomes == [([200] * 4, 4)] * len(competencies)


class TestLearnerMastery:
    async def test_the_learners_teacher_reads_every_estimate_in_competency_order(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        batch = [statement(competency="3.NF.A.2"), *[statement(competency="3.NF.A.1")] * 3]
        recorded_ids(await progress.post("/statements", json=batch, headers=lms))

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher"))

        assert response.status_code == 200, response.text
        rows = response.json()
        assert [(r["competencyId"], r["status"], r["evidenceCount"]) for r in rows] == [
            ("3.NF.A.1", "mastered", 3),
            ("3.NF.A.2", "in_progress", 1),
        ]
        assert set(rows[0]) == {"competencyId", "estimate", "status", "evidenceCount", "lastEvidenceAt"}
        assert rows[0]["estimate"] >= bkt.MASTERED_THRESHOLD

    async def test_a_learner_without_evidence_has_no_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get("/learners/l-a2/mastery", headers=tokens.headers("t-a", "teacher"))

        assert response.status_code == 200, response.text
        assert response.json() == []

    async def test_a_teacher_of_another_school_gets_not_found(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        recorded_ids(
            await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-b", "teacher"))

        problem(response, 404)

    async def test_a_learner_reads_their_own_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        recorded_ids(
            await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("l-a1", "learner"))

        assert response.status_code == 200, response.text
        assert [r["competencyId"] for r in response.json()] == ["3.NF.A.1"]

    async def test_a_learner_gets_not_found_for_a_classmate(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("l-a2", "learner"))

        problem(response, 404)

    async def test_a_guardian_reads_their_linked_learners_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        recorded_ids(
            await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("g-a1", "guardian"))

        assert response.status_code == 200, response.text
        assert len(response.json()) == 1

    async def test_an_admin_of_another_tenant_gets_not_found(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        recorded_ids(
            await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("admin", "admin", tenant="t2"))

        problem(response, 404)

    async def test_the_same_learner_id_in_another_tenant_reads_only_its_own_evidence(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        recorded_ids(
            await progress.post("/statements", json=statement(), headers=tokens.headers("lms", "partner", scopes=WRITE))
        )

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("admin", "admin", tenant="t2"))

        assert response.status_code == 200, response.text
        assert response.json() == []

    async def test_a_malformed_learner_id_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get("/learners/-bad id/mastery", headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["learner_id"]

    async def test_access_is_judged_on_the_very_learner_id_that_is_read(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # `l-a1?x` is not a sourcedId; it must not be checked as `l-a1` and then read as `l-a1?x`.
        await make_roster(apps.profile, "t1")
        lms = tokens.headers("lms", "partner", scopes=WRITE)
        recorded_ids(await progress.post("/statements", json=statement("l-a1?x"), headers=lms))

        response = await progress.get("/learners/l-a1%3Fx/mastery", headers=tokens.headers("t-a", "teacher"))

        assert response.status_code in (404, 422), response.text

    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get("/learners/l-a1/mastery", headers=unauthenticated)

        problem(response, 401)
