"""The progress service's own mastery API: a learner's estimates and their history, the week's progress,
and a class's learners x competencies matrix.

Evidence is recorded through the real LRS (`POST /xapi/statements` by the `lms` API client). Roster
(per tenant, from `tests.factories`): teacher `t-a` teaches class `c-a` (school `s1`, learners `l-a1`,
`l-a2`); teacher `t-b` teaches `c-b` (school `s2`, learner `l-b1`); guardian `g-a1` of `l-a1`; admin
`admin` of the district.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.progress_service import bkt
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import invalid_fields, problem
from tests.statements import WRITE, lms, master, record, statement
from tests.tokens import TokenFactory

READERS = [("l-a1", "learner"), ("t-a", "teacher"), ("g-a1", "guardian"), ("admin", "admin")]
OUTSIDERS = [("l-a2", "learner"), ("t-b", "teacher"), ("g-x", "guardian")]


def default_bkt(*correct: bool) -> float:
    """P(known) after `correct` under the default BKT parameters (prior 0.2, learn 0.15, guess 0.2, slip 0.1)."""
    params = bkt.BktParams()
    state = bkt.new_competency_state(params)
    for answer in correct:
        state, _ = bkt.observe(state, bkt.LearnerState(), answer, params)
    return state.p_known


ONE_CORRECT = default_bkt(True)
THREE_CORRECT = default_bkt(True, True, True)


def writer(tokens: TokenFactory, tenant: str = "t1") -> dict[str, str]:
    """Headers of the `lms` API client recording statements in `tenant`."""
    return lms(tokens, tenant=tenant, scopes=WRITE)


def days_ago(days: int, hours: int = 0) -> str:
    """An xAPI timestamp `days` (and `hours`) before now, in UTC."""
    moment = datetime.now(UTC) - timedelta(days=days, hours=hours)
    return moment.isoformat().replace("+00:00", "Z")


def answers(learner: str, competency: str, *correct: bool, timestamp: str | None = None) -> list[dict[str, Any]]:
    """One statement per answer in `correct`, in order."""
    extra = {} if timestamp is None else {"timestamp": timestamp}
    return [statement(learner, competency, success=ok, **extra) for ok in correct]


def ok_json(response: httpx.Response) -> Any:
    """The JSON body of a 200 answer."""
    assert response.status_code == 200, response.text
    return response.json()


class TestLearnerMastery:
    async def test_lists_each_estimate_by_competency(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "B")
        await record(progress, writer(tokens), answers("l-a1", "A", True))

        rows = ok_json(await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher")))

        assert set(rows[0]) == {
            "competencyId",
            "frameworkId",
            "estimate",
            "status",
            "evidenceCount",
            "lastEvidenceAt",
        }
        assert [(r["competencyId"], r["frameworkId"], r["status"], r["evidenceCount"]) for r in rows] == [
            ("A", "*", "in_progress", 1),
            ("B", "*", "mastered", 3),
        ]
        assert [r["estimate"] for r in rows] == [pytest.approx(ONE_CORRECT), pytest.approx(THREE_CORRECT)]
        assert all(r["lastEvidenceAt"] is not None for r in rows)

    async def test_a_learner_without_evidence_has_no_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a2", "A")

        assert ok_json(await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher"))) == []

    async def test_the_competency_filter_is_repeatable(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, writer(tokens), [*answers("l-a1", "A", True), *answers("l-a1", "B", True)])
        await record(progress, writer(tokens), answers("l-a1", "C", False))

        response = await progress.get(
            "/learners/l-a1/mastery",
            params=[("competency", "C"), ("competency", "A"), ("competency", "Z")],
            headers=tokens.headers("t-a", "teacher"),
        )

        assert [r["competencyId"] for r in ok_json(response)] == ["A", "C"]

    @pytest.mark.parametrize(
        ("statuses", "expected"),
        [(["mastered"], ["B"]), (["in_progress"], ["A"]), (["mastered", "in_progress"], ["A", "B"])],
    )
    async def test_the_status_filter_is_repeatable(
        self,
        apps: Apps,
        progress: httpx.AsyncClient,
        tokens: TokenFactory,
        statuses: list[str],
        expected: list[str],
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "B")
        await record(progress, writer(tokens), answers("l-a1", "A", True))

        response = await progress.get(
            "/learners/l-a1/mastery",
            params=[("status", s) for s in statuses],
            headers=tokens.headers("t-a", "teacher"),
        )

        assert [r["competencyId"] for r in ok_json(response)] == expected

    async def test_an_unknown_status_is_refused_naming_the_filter(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get(
            "/learners/l-a1/mastery", params={"status": "done"}, headers=tokens.headers("t-a", "teacher")
        )

        assert invalid_fields(response) == ["status.0"]

    @pytest.mark.parametrize(("sub", "role"), READERS)
    async def test_those_related_to_the_learner_read_the_estimates(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        rows = ok_json(await progress.get("/learners/l-a1/mastery", headers=tokens.headers(sub, role)))

        assert [(r["competencyId"], r["status"]) for r in rows] == [("A", "mastered")]

    @pytest.mark.parametrize(("sub", "role"), OUTSIDERS)
    async def test_others_get_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers(sub, role))

        problem(response, 404)

    async def test_another_tenant_sees_only_its_own_learner_of_the_same_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "A")
        await record(progress, writer(tokens, "t2"), answers("l-a1", "T2", True))

        t1 = ok_json(await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher")))
        t2 = ok_json(
            await progress.get("/learners/l-a1/mastery", headers=tokens.headers("t-a", "teacher", tenant="t2"))
        )

        assert [r["competencyId"] for r in t1] == ["A"]
        assert [r["competencyId"] for r in t2] == ["T2"]

    async def test_a_tenant_without_the_learner_gets_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        response = await progress.get("/learners/l-a1/mastery", headers=tokens.headers("admin", "admin", tenant="t2"))

        problem(response, 404)

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")

        problem(await progress.get("/learners/l-a1/mastery", headers=unauthenticated), 401)


class TestMasteryHistory:
    async def test_each_change_oldest_first_with_its_statement(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        batch = [
            statement("l-a1", "A", success=ok, timestamp=days_ago(0, hours))
            for ok, hours in ((True, 3), (False, 2), (True, 1))
        ]
        ids = await record(progress, writer(tokens), batch)
        await record(progress, writer(tokens), answers("l-a1", "B", True))

        response = await progress.get("/learners/l-a1/mastery/A/history", headers=tokens.headers("t-a", "teacher"))

        changes = ok_json(response)
        assert response.headers["x-total-count"] == "3"
        assert set(changes[0]) == {"statementId", "correct", "oldEstimate", "estimate", "status", "at"}
        assert [(c["statementId"], c["correct"]) for c in changes] == list(zip(ids, [True, False, True], strict=True))
        assert [c["oldEstimate"] for c in changes[1:]] == [c["estimate"] for c in changes[:-1]]
        assert changes[0]["estimate"] == pytest.approx(ONE_CORRECT)
        assert changes[1]["estimate"] < changes[0]["estimate"] < changes[2]["estimate"]
        assert [c["status"] for c in changes] == ["in_progress"] * 3
        (current,) = ok_json(
            await progress.get(
                "/learners/l-a1/mastery", params={"competency": "A"}, headers=tokens.headers("t-a", "teacher")
            )
        )
        assert current["estimate"] == pytest.approx(changes[-1]["estimate"])

    async def test_the_last_change_to_mastered_says_so(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        changes = ok_json(
            await progress.get("/learners/l-a1/mastery/A/history", headers=tokens.headers("l-a1", "learner"))
        )

        assert [c["status"] for c in changes] == ["in_progress", "in_progress", "mastered"]

    async def test_pages_with_total_count_and_links(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        ids = await record(progress, writer(tokens), answers("l-a1", "A", True, False, True))
        teacher = tokens.headers("t-a", "teacher")

        first = await progress.get("/learners/l-a1/mastery/A/history", params={"limit": 2}, headers=teacher)
        second = await progress.get(
            "/learners/l-a1/mastery/A/history", params={"limit": 2, "offset": 2}, headers=teacher
        )

        assert [c["statementId"] for c in ok_json(first)] == ids[:2]
        assert [c["statementId"] for c in ok_json(second)] == ids[2:]
        assert first.headers["x-total-count"] == second.headers["x-total-count"] == "3"
        assert 'rel="next"' in first.headers["link"]
        assert 'rel="next"' not in second.headers["link"]

    async def test_a_competency_without_evidence_has_an_empty_history(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        response = await progress.get("/learners/l-a1/mastery/B/history", headers=tokens.headers("t-a", "teacher"))

        assert ok_json(response) == []
        assert response.headers["x-total-count"] == "0"

    async def test_another_learners_changes_are_not_listed(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a2", "A")
        (mine,) = await record(progress, writer(tokens), answers("l-a1", "A", True))

        response = await progress.get("/learners/l-a1/mastery/A/history", headers=tokens.headers("t-a", "teacher"))

        assert [c["statementId"] for c in ok_json(response)] == [mine]

    @pytest.mark.parametrize("params", [{"limit": "0"}, {"offset": "-1"}, {"limit": "many"}])
    async def test_a_bad_page_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, params: dict[str, str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        response = await progress.get(
            "/learners/l-a1/mastery/A/history", params=params, headers=tokens.headers("t-a", "teacher")
        )

        assert invalid_fields(response) == list(params)

    @pytest.mark.parametrize(("sub", "role"), OUTSIDERS)
    async def test_others_get_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        problem(await progress.get("/learners/l-a1/mastery/A/history", headers=tokens.headers(sub, role)), 404)

    async def test_another_tenant_does_not_see_the_changes(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "A")

        response = await progress.get(
            "/learners/l-a1/mastery/A/history", headers=tokens.headers("t-a", "teacher", tenant="t2")
        )

        assert ok_json(response) == []

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await progress.get("/learners/l-a1/mastery/A/history", headers=unauthenticated), 401)


class TestLearnerProgress:
    async def test_a_new_learner_has_an_empty_week(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers("l-a1", "learner")))

        assert summary == {"masteredThisWeek": 0, "activeDayStreak": 0, "minutesThisWeek": 0.0}

    @pytest.mark.parametrize(
        ("days", "streak"),
        [
            ((0, 1, 2), 3),
            ((0, 1, 2, 4, 5), 3),  # the gap on day 3 ends it
            ((1, 2), 2),  # held until today's work
            ((0, 0, 0), 1),  # several statements, one day
            ((2, 3), 0),  # nothing today or yesterday
        ],
    )
    async def test_the_streak_counts_consecutive_active_days_up_to_today(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, days: tuple[int, ...], streak: int
    ) -> None:
        await make_roster(apps.profile, "t1")
        batch = [statement("l-a1", "A", timestamp=days_ago(day)) for day in days]
        batch.append(statement("l-a2", "A", timestamp=days_ago(3)))  # another learner's day counts for nothing
        await record(progress, writer(tokens), batch)

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers("l-a1", "learner")))

        assert summary["activeDayStreak"] == streak

    async def test_minutes_sum_this_weeks_durations(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        batch = [
            statement("l-a1", "A", result={"success": True, "duration": "PT5M"}),
            statement("l-a1", None, result={"duration": "PT1M30S"}),
            statement("l-a1", "B"),  # no duration: nothing added
            statement("l-a1", "A", result={"success": True, "duration": "PT10M"}, timestamp=days_ago(8)),
            statement("l-a2", "A", result={"success": True, "duration": "PT1H"}),
        ]
        await record(progress, writer(tokens), batch)

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers("t-a", "teacher")))

        assert summary["minutesThisWeek"] == pytest.approx(6.5)

    async def test_mastered_this_week_counts_competencies_mastered_since_monday_and_held(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A", "C")
        await record(progress, writer(tokens), answers("l-a1", "C", False))  # mastered, then lost
        await record(progress, writer(tokens), answers("l-a1", "D", True, True))  # not yet
        await record(progress, writer(tokens), answers("l-a1", "E", True, True, True, timestamp=days_ago(8)))

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers("l-a1", "learner")))

        assert summary["masteredThisWeek"] == 1

    async def test_practising_a_competency_mastered_last_week_does_not_count_it_again(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await record(progress, writer(tokens), answers("l-a1", "E", True, True, True, timestamp=days_ago(8)))
        await record(progress, writer(tokens), answers("l-a1", "E", True))  # still mastered, nothing new

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers("l-a1", "learner")))

        assert summary["masteredThisWeek"] == 0

    @pytest.mark.parametrize(("sub", "role"), READERS)
    async def test_those_related_to_the_learner_read_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        summary = ok_json(await progress.get("/learners/l-a1/progress", headers=tokens.headers(sub, role)))

        assert (summary["masteredThisWeek"], summary["activeDayStreak"]) == (1, 1)

    @pytest.mark.parametrize(("sub", "role"), OUTSIDERS)
    async def test_others_get_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str
    ) -> None:
        await make_roster(apps.profile, "t1")

        problem(await progress.get("/learners/l-a1/progress", headers=tokens.headers(sub, role)), 404)

    async def test_another_tenants_activity_is_not_counted(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "A")

        summary = ok_json(
            await progress.get("/learners/l-a1/progress", headers=tokens.headers("l-a1", "learner", tenant="t2"))
        )

        assert summary == {"masteredThisWeek": 0, "activeDayStreak": 0, "minutesThisWeek": 0.0}

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await progress.get("/learners/l-a1/progress", headers=unauthenticated), 401)


class TestClassMastery:
    async def test_the_teacher_gets_the_matrix_of_the_class(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "B")
        await record(progress, writer(tokens), [*answers("l-a2", "A", True), *answers("l-a2", "B", True)])
        await master(progress, tokens, "l-b1", "C")  # another class's learner: not a column, not a row

        matrix = ok_json(await progress.get("/classes/c-a/mastery", headers=tokens.headers("t-a", "teacher")))

        assert matrix["learners"] == ["l-a1", "l-a2"]
        assert matrix["competencies"] == ["A", "B"]
        assert matrix["estimates"] == [
            [None, pytest.approx(THREE_CORRECT)],
            [pytest.approx(ONE_CORRECT), pytest.approx(ONE_CORRECT)],
        ]
        assert matrix["statuses"] == [["not_started", "mastered"], ["in_progress", "in_progress"]]
        assert matrix["masteredCounts"] == [0, 1]

    async def test_the_competency_filter_keeps_the_asked_for_columns_in_order(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A", "B")
        await master(progress, tokens, "l-a2", "A")

        response = await progress.get(
            "/classes/c-a/mastery",
            params=[("competency", "Z"), ("competency", "A")],
            headers=tokens.headers("t-a", "teacher"),
        )

        matrix = ok_json(response)
        assert matrix["competencies"] == ["Z", "A"]
        assert [row[0] for row in matrix["estimates"]] == [None, None]
        assert matrix["statuses"] == [["not_started", "mastered"], ["not_started", "mastered"]]
        assert matrix["masteredCounts"] == [0, 2]

    async def test_a_competency_asked_for_twice_shows_its_estimates_in_every_column(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        response = await progress.get(
            "/classes/c-a/mastery",
            params=[("competency", "A"), ("competency", "A")],
            headers=tokens.headers("t-a", "teacher"),
        )

        matrix = ok_json(response)
        for column, competency in enumerate(matrix["competencies"]):
            assert competency == "A"
            assert matrix["statuses"][0][column] == "mastered"
            assert matrix["masteredCounts"][column] == 1

    @pytest.mark.parametrize(
        ("sub", "role", "learners"),
        [
            ("admin", "admin", ["l-a1", "l-a2"]),
            ("g-a1", "guardian", ["l-a1"]),
            ("l-a2", "learner", ["l-a2"]),
        ],
    )
    async def test_only_the_learners_the_caller_may_read_are_rows(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sub: str, role: str, learners: list[str]
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")
        await master(progress, tokens, "l-a2", "A")

        matrix = ok_json(await progress.get("/classes/c-a/mastery", headers=tokens.headers(sub, role)))

        assert matrix["learners"] == learners
        assert matrix["statuses"] == [["mastered"]] * len(learners)
        assert matrix["masteredCounts"] == [len(learners)]

    async def test_a_class_without_evidence_has_rows_and_no_columns(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")

        matrix = ok_json(await progress.get("/classes/c-a/mastery", headers=tokens.headers("t-a", "teacher")))

        assert matrix == {
            "learners": ["l-a1", "l-a2"],
            "competencies": [],
            "estimates": [[], []],
            "statuses": [[], []],
            "masteredCounts": [],
        }

    async def test_a_teacher_of_another_school_gets_404(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        await master(progress, tokens, "l-a1", "A")

        problem(await progress.get("/classes/c-a/mastery", headers=tokens.headers("t-b", "teacher")), 404)

    async def test_an_unknown_class_is_404(self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory) -> None:
        await make_roster(apps.profile, "t1")

        problem(await progress.get("/classes/c-zz/mastery", headers=tokens.headers("admin", "admin")), 404)

    async def test_a_malformed_class_id_is_refused_naming_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.get("/classes/-c/mastery", headers=tokens.headers("admin", "admin"))

        assert invalid_fields(response) == ["class_id"]

    async def test_another_tenants_class_of_the_same_id_shows_none_of_this_tenants_evidence(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1", "t2")
        await master(progress, tokens, "l-a1", "A")

        matrix = ok_json(
            await progress.get("/classes/c-a/mastery", headers=tokens.headers("t-a", "teacher", tenant="t2"))
        )

        assert (matrix["learners"], matrix["competencies"]) == (["l-a1", "l-a2"], [])

    async def test_unauthenticated_callers_get_401(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        problem(await progress.get("/classes/c-a/mastery", headers=unauthenticated), 401)
