"""The xAPI Statement resource, read side: GET/HEAD /xapi/statements, `more` pages and /xapi/about.

Covers the wire rules every /xapi response follows (version header, one Date), strict query
parameters, single statements and their formats, the list filters (with the StatementRef rule),
`more` paging that stays consistent while statements arrive, and who may read what.
Writing is in `test_statements`.

Roster (per tenant, from `tests.factories`): teacher `t-a` teaches `l-a1`, `l-a2` (school `s1`);
teacher `t-b` teaches `l-b1` (school `s2`).
"""

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from services.progress_service.xapi_formats import parse_timestamp
from tests.conftest import Apps
from tests.factories import make_roster
from tests.problems import problem
from tests.statements import (
    ANSWERED,
    AUTHORITY_HOME_PAGE,
    REVIEWED,
    VERSIONS,
    WRITE,
    WRITE_READ,
    account,
    client_credentials,
    fetch,
    ids_of,
    lms,
    new_id,
    record,
    reference,
    statement,
    voiding,
    xapi,
)
from tests.tokens import TokenFactory

CONSISTENT_THROUGH = "x-experience-api-consistent-through"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
CONFIRMED = "https://plp.dev/xapi/verbs/confirmed"


def agent_param(name: str) -> str:
    """The `agent` query parameter naming roster user `name`."""
    return json.dumps(account(name))


def refused(response: httpx.Response, status: int = 400) -> str:
    """The `field` a refusal names, after checking its status."""
    field: str = problem(response, status)["field"]
    return field


def http_date(response: httpx.Response, header: str) -> datetime:
    """A header holding an HTTP date, parsed."""
    return parsedate_to_datetime(response.headers[header])


async def record_each(progress: httpx.AsyncClient, headers: dict[str, str], *bodies: dict[str, Any]) -> list[str]:
    """Record each statement in its own request (so each has its own `stored`); their ids."""
    return [(await record(progress, headers, body))[0] for body in bodies]


class TestVersionHeader:
    async def test_a_request_without_the_version_header_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.get("/xapi/statements", headers=tokens.headers("lms", "partner", scopes=WRITE_READ))

        assert refused(response) == "X-Experience-API-Version"
        assert response.headers["x-experience-api-version"] == "2.0.0"

    @pytest.mark.parametrize("sent", ["0.95", "1.1.0", "3.0.0"])
    async def test_an_unsupported_version_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sent: str
    ) -> None:
        headers = tokens.headers("lms", "partner", scopes=WRITE_READ) | xapi(sent)
        response = await progress.post("/xapi/statements", json=statement(), headers=headers)

        assert refused(response) == "X-Experience-API-Version"

    @pytest.mark.parametrize(("sent", "echoed"), [("1.0.3", "1.0.3"), ("1.0.1", "1.0.3"), ("2.0.0", "2.0.0")])
    async def test_every_response_echoes_the_version_spoken(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, sent: str, echoed: str
    ) -> None:
        headers = lms(tokens, sent)
        responses = [
            await progress.post("/xapi/statements", json=statement(), headers=headers),
            await progress.put("/xapi/statements", params={"statementId": new_id()}, json=statement(), headers=headers),
            await progress.get("/xapi/statements", headers=headers),
            await progress.head("/xapi/statements", headers=headers),
            await progress.get("/xapi/statements", params={"statementid": new_id()}, headers=headers),
            await progress.get("/xapi/statements", params={"statementId": new_id()}, headers=headers),
            await progress.get("/xapi/statements", headers=xapi(sent)),
            await progress.get("/xapi/statements/more/not-a-cursor", headers=headers),
            await progress.get("/xapi/about", headers=xapi(sent)),
        ]

        assert [r.status_code for r in responses] == [200, 204, 200, 200, 400, 404, 401, 400, 200]
        assert [r.headers.get_list("x-experience-api-version") for r in responses] == [[echoed]] * len(responses)

    async def test_every_response_has_exactly_one_date_header(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        responses = [
            await progress.post("/xapi/statements", json=statement(), headers=lms(tokens)),
            await progress.get("/xapi/statements", headers=lms(tokens)),
            await progress.get("/xapi/statements", params={"bogus": "1"}, headers=lms(tokens)),
            await progress.get("/xapi/statements", headers=xapi()),
        ]

        for response in responses:
            (date,) = response.headers.get_list("date")
            assert abs((parsedate_to_datetime(date) - datetime.now(UTC)).total_seconds()) < 60


class TestAbout:
    @pytest.mark.parametrize("headers", [{}, {"X-Experience-API-Version": "1.0.3"}])
    async def test_about_lists_both_versions_to_anyone(
        self, apps: Apps, progress: httpx.AsyncClient, headers: dict[str, str]
    ) -> None:
        response = await progress.get("/xapi/about", headers=headers)

        assert response.status_code == 200, response.text
        assert set(response.json()["version"]) >= {"1.0.3", "2.0.0"}


class TestQueryParameters:
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"bogus": "1"}, "bogus"),
            ({"statementid": "c70c2b85-c294-464f-baca-cebd4fb9b348"}, "statementid"),
            ({"Verb": ANSWERED}, "Verb"),
            ({"agent": "l-a1"}, "agent"),
            ({"agent": json.dumps({"objectType": "Group", "member": [account("l-a1")]})}, "agent"),
            ({"verb": "answered"}, "verb"),
            ({"registration": "not-a-uuid"}, "registration"),
            ({"since": "yesterday"}, "since"),
            ({"limit": "-1"}, "limit"),
            ({"ascending": "yes"}, "ascending"),
            ({"format": "full"}, "format"),
            ({"statementId": "not-a-uuid"}, "statementId"),
        ],
    )
    async def test_an_unknown_or_malformed_parameter_is_refused_by_name(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, params: dict[str, str], field: str
    ) -> None:
        response = await progress.get("/xapi/statements", params=params, headers=lms(tokens))

        assert refused(response) == field

    @pytest.mark.parametrize(
        "extra", [{"voidedStatementId": "c70c2b85-c294-464f-baca-cebd4fb9b348"}, {"verb": ANSWERED}, {"limit": "1"}]
    )
    async def test_statement_id_takes_only_format_and_attachments(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, extra: dict[str, str]
    ) -> None:
        (statement_id,) = await record(progress, lms(tokens), statement())
        params = {"statementId": statement_id, "format": "ids", "attachments": "false"} | extra

        response = await progress.get("/xapi/statements", params=params, headers=lms(tokens))

        assert refused(response) == next(iter(extra))


class TestGetOneStatement:
    @pytest.mark.parametrize("version", VERSIONS)
    async def test_statement_id_returns_the_statement_exactly(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, version: str
    ) -> None:
        sent = statement(
            id=new_id(),
            actor={"name": "Ada", **account("l-a1")},
            verb={"id": ANSWERED, "display": {"en-US": "answered"}},
            context={"contextActivities": {"parent": [{"id": "https://lms.example/units/1"}]}},
        )
        await record(progress, lms(tokens, version), sent)

        response = await progress.get("/xapi/statements", params={"statementId": sent["id"]}, headers=lms(tokens))

        assert response.status_code == 200, response.text
        got = response.json()
        assert {k: v for k, v in got.items() if k not in ("stored", "authority", "version", "timestamp")} == sent
        assert http_date(response, "last-modified") == parse_timestamp(got["stored"]).replace(microsecond=0)

    async def test_an_unknown_statement_id_is_not_found(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.get("/xapi/statements", params={"statementId": new_id()}, headers=lms(tokens))

        assert refused(response, 404) == "statementId"

    async def test_a_single_statement_carries_consistent_through(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # Communication 2.1.3.s2.b5: the header is on all responses to Statement Resource requests.
        (statement_id,) = await record(progress, lms(tokens), statement())

        response = await progress.get("/xapi/statements", params={"statementId": statement_id}, headers=lms(tokens))

        assert response.status_code == 200, response.text
        assert parse_timestamp(response.headers[CONSISTENT_THROUGH]) >= parse_timestamp(response.json()["stored"])

    async def test_format_ids_keeps_only_what_identifies(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        sent = statement(
            actor={"objectType": "Agent", "name": "Ada", **account("l-a1")},
            verb={"id": ANSWERED, "display": {"en-US": "answered"}},
            object={"objectType": "Activity", "id": "https://lms.example/items/1", "definition": {"name": {"en": "1"}}},
        )
        (statement_id,) = await record(progress, lms(tokens), sent)

        got = await fetch(progress, lms(tokens), statementId=statement_id, format="ids")

        assert got["actor"] == {"objectType": "Agent", **account("l-a1")}
        assert got["verb"] == {"id": ANSWERED}
        assert got["object"] == {"objectType": "Activity", "id": "https://lms.example/items/1"}
        assert got["authority"] == {"objectType": "Agent", "account": {"homePage": AUTHORITY_HOME_PAGE, "name": "lms"}}
        assert got["result"] == sent["result"]

    @pytest.mark.parametrize(
        ("accept_language", "picked"),
        [("fr-FR, en;q=0.5", "fr-FR"), ("en", "en-US"), ("de, fr;q=0.9", "fr-FR"), ("es-MX", "es")],
    )
    async def test_format_canonical_keeps_the_best_language_of_each_map(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, accept_language: str, picked: str
    ) -> None:
        names = {"en-US": "Fractions", "fr-FR": "Fractions (fr)", "es": "Fracciones"}
        sent = statement(
            verb={"id": ANSWERED, "display": {"en-US": "answered", "fr-FR": "a répondu", "es": "respondió"}},
            object={"id": "https://lms.example/items/1", "definition": {"name": names}},
        )
        (statement_id,) = await record(progress, lms(tokens), sent)

        response = await progress.get(
            "/xapi/statements",
            params={"statementId": statement_id, "format": "canonical"},
            headers=lms(tokens) | {"Accept-Language": accept_language},
        )

        assert response.status_code == 200, response.text
        got = response.json()
        assert list(got["verb"]["display"]) == [picked]
        assert got["object"]["definition"]["name"] == {picked: names[picked]}
        assert got["actor"] == sent["actor"]

    async def test_2_0_context_agents_are_left_out_for_1_0_3_readers(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        context = {"contextAgents": [{"objectType": "contextAgent", "agent": account("t-a")}], "language": "en"}
        (statement_id,) = await record(progress, lms(tokens), statement(context=context))

        new = await fetch(progress, lms(tokens, "2.0.0"), statementId=statement_id)
        old = await fetch(progress, lms(tokens, "1.0.3"), statementId=statement_id)

        assert new["context"] == context
        assert old["context"] == {"language": "en"}


class TestHead:
    async def test_head_answers_the_headers_of_get_without_a_body(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (statement_id,) = await record(progress, lms(tokens), statement())
        params = {"statementId": statement_id}

        get = await progress.get("/xapi/statements", params=params, headers=lms(tokens))
        head = await progress.head("/xapi/statements", params=params, headers=lms(tokens))
        head_list = await progress.head("/xapi/statements", headers=lms(tokens))

        assert (head.status_code, head.content, head_list.status_code, head_list.content) == (200, b"", 200, b"")
        for name in ("content-type", "content-length", "last-modified", "x-experience-api-version"):
            assert head.headers[name] == get.headers[name]
        assert CONSISTENT_THROUGH in head_list.headers

    async def test_head_of_a_missing_statement_is_not_found(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.head("/xapi/statements", params={"statementId": new_id()}, headers=lms(tokens))

        assert (response.status_code, response.content) == (404, b"")


class TestListStatements:
    async def test_nothing_matching_is_an_empty_result(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        assert await fetch(progress, lms(tokens), verb=ANSWERED) == {"statements": [], "more": ""}

    async def test_a_list_carries_consistent_through_and_last_modified(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await record_each(progress, lms(tokens), statement(), statement())

        response = await progress.get("/xapi/statements", headers=lms(tokens))

        assert response.status_code == 200, response.text
        newest = parse_timestamp(response.json()["statements"][0]["stored"])
        assert parse_timestamp(response.headers[CONSISTENT_THROUGH]) >= newest
        assert http_date(response, "last-modified") == newest.replace(microsecond=0)

    async def test_newest_first_unless_ascending_and_limit_caps_the_page(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        ids = await record_each(progress, lms(tokens), statement(), statement(), statement())

        newest_first = await fetch(progress, lms(tokens))
        oldest_first = await fetch(progress, lms(tokens), ascending="true")
        capped = await fetch(progress, lms(tokens), limit="2")
        unlimited = await fetch(progress, lms(tokens), limit="0")

        assert (ids_of(newest_first), newest_first["more"]) == (ids[::-1], "")
        assert ids_of(oldest_first) == ids
        assert ids_of(capped) == ids[:0:-1]
        assert capped["more"] != ""
        assert (ids_of(unlimited), unlimited["more"]) == (ids[::-1], "")


class TestFilters:
    async def test_agent_matches_the_actor_and_an_agent_object(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        about_l_a1 = statement("t-a", verb={"id": REVIEWED}, object={"objectType": "Agent", **account("l-a1")})
        ids = await record(progress, lms(tokens), [statement("l-a1"), about_l_a1, statement("l-a2")])

        result = await fetch(progress, lms(tokens), agent=agent_param("l-a1"))

        assert sorted(ids_of(result)) == sorted(ids[:2])

    async def test_related_agents_also_matches_the_instructor_and_the_authority(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (taught,) = await record(progress, lms(tokens), statement("l-a2", context={"instructor": account("t-a")}))
        authority = json.dumps({"account": {"homePage": AUTHORITY_HOME_PAGE, "name": "lms"}})

        direct = await fetch(progress, lms(tokens), agent=agent_param("t-a"))
        related = await fetch(progress, lms(tokens), agent=agent_param("t-a"), related_agents="true")
        by_authority = await fetch(progress, lms(tokens), agent=authority, related_agents="true")

        assert (ids_of(direct), ids_of(related), ids_of(by_authority)) == ([], [taught], [taught])

    async def test_verb_matches_the_verb_id(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        ids = await record(progress, lms(tokens), [statement(), statement(verb={"id": ATTEMPTED})])

        assert ids_of(await fetch(progress, lms(tokens), verb=ATTEMPTED)) == ids[1:]

    async def test_activity_matches_the_object_and_related_activities_the_context(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        unit = "https://lms.example/units/fractions"
        in_unit = statement(context={"contextActivities": {"parent": [{"id": unit}], "grouping": {"id": unit}}})
        ids = await record(progress, lms(tokens), [statement(object={"id": unit}), in_unit, statement()])

        direct = await fetch(progress, lms(tokens), activity=unit)
        related = await fetch(progress, lms(tokens), activity=unit, related_activities="true")

        assert ids_of(direct) == ids[:1]
        assert sorted(ids_of(related)) == sorted(ids[:2])

    async def test_registration_matches_in_any_case(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        registration = new_id()
        ids = await record(progress, lms(tokens), [statement(context={"registration": registration}), statement()])

        assert ids_of(await fetch(progress, lms(tokens), registration=registration.upper())) == ids[:1]

    async def test_since_is_exclusive_and_until_inclusive_of_the_stored_values_returned(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await record_each(progress, lms(tokens), statement(), statement(), statement())
        stored = {s["id"]: s["stored"] for s in (await fetch(progress, lms(tokens)))["statements"]}
        first, middle = sorted(stored.values())[:2]

        since = await fetch(progress, lms(tokens), since=first)
        until = await fetch(progress, lms(tokens), until=middle)

        assert sorted(ids_of(since)) == sorted(i for i, at in stored.items() if at > first)
        assert sorted(ids_of(until)) == sorted(i for i, at in stored.items() if at <= middle)

    async def test_a_statement_targeting_a_matching_statement_matches(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (target,) = await record(progress, lms(tokens), statement())
        (review,) = await record(progress, lms(tokens), reference(target))
        await record(progress, lms(tokens), statement(verb={"id": ATTEMPTED}))

        by_verb = await fetch(progress, lms(tokens), verb=ANSWERED)
        by_agent = await fetch(progress, lms(tokens), agent=agent_param("l-a1"), verb=ANSWERED)
        # Sequence parameters (limit) apply to the targeting statement itself.
        newest = await fetch(progress, lms(tokens), verb=ANSWERED, limit="1")

        assert ids_of(by_verb) == ids_of(by_agent) == [review, target]
        assert ids_of(newest) == [review]
        assert newest["more"] != ""

    async def test_the_statement_ref_rule_applies_recursively(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # Communication 2.1.3.s3: "a" matches when a targets b which targets c and c matches.
        (c,) = await record(progress, lms(tokens), statement())
        (b,) = await record(progress, lms(tokens), reference(c))
        (a,) = await record(progress, lms(tokens), reference(b, "t-b", CONFIRMED))

        assert ids_of(await fetch(progress, lms(tokens), verb=ANSWERED)) == [a, b, c]

    async def test_the_voiding_statement_of_a_matching_statement_is_listed_not_the_voided_one(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (target,) = await record(progress, lms(tokens), statement())
        (voider,) = await record(progress, lms(tokens), voiding(target))

        assert ids_of(await fetch(progress, lms(tokens), verb=ANSWERED)) == [voider]


class TestMorePages:
    @pytest.mark.parametrize("ascending", ["false", "true"])
    async def test_25_statements_page_by_10_with_no_repeat_or_skip_while_new_ones_arrive(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory, ascending: str
    ) -> None:
        for _ in range(5):
            await record(progress, lms(tokens), [statement() for _ in range(5)])
        expected = ids_of(await fetch(progress, lms(tokens), limit="0", ascending=ascending))
        pages: list[list[str]] = []
        links: list[str] = []

        result = await fetch(progress, lms(tokens), limit="10", ascending=ascending)
        while True:
            pages.append(ids_of(result))
            links.append(result["more"])
            if not result["more"]:
                break
            await record(progress, lms(tokens), [statement("l-a2"), statement()])
            response = await progress.get(result["more"], headers=lms(tokens))
            assert response.status_code == 200, response.text
            result = response.json()

        assert [len(page) for page in pages] == [10, 10, 5]
        assert [i for page in pages for i in page] == expected
        assert len(set(expected)) == 25
        assert all(link.startswith("/xapi/statements/more/") for link in links[:-1])
        assert links[-1] == ""

    async def test_later_pages_keep_the_filters_format_and_order(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        named = statement(actor={"name": "Ada", **account("l-a1")}, verb={"id": ANSWERED, "display": {"en": "did"}})
        ids = await record_each(progress, lms(tokens), named, named, named)
        await record(progress, lms(tokens), [statement("l-a2"), statement(verb={"id": ATTEMPTED})])
        query = {"agent": agent_param("l-a1"), "verb": ANSWERED, "ascending": "true", "format": "ids", "limit": "2"}

        first = await fetch(progress, lms(tokens), **query)
        second = (await progress.get(first["more"], headers=lms(tokens))).json()

        assert (ids_of(first), ids_of(second), second["more"]) == (ids[:2], ids[2:], "")
        assert (second["statements"][0]["actor"], second["statements"][0]["verb"]) == (
            account("l-a1"),
            {"id": ANSWERED},
        )

    async def test_a_more_link_that_is_not_ours_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        response = await progress.get("/xapi/statements/more/eyJub3QiOiAiYSBjdXJzb3IifQ", headers=lms(tokens))

        assert refused(response) == "more"

    async def test_a_more_link_grants_nothing_to_whoever_follows_it(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        # One batch shares one `stored`; ties are ordered by id, so these ids fix the order: l-a2 last.
        batch = [
            statement("l-a2", id="00000000-0000-4000-8000-000000000001"),
            statement("l-a1", id="00000000-0000-4000-8000-000000000002"),
            statement("l-a1", id="00000000-0000-4000-8000-000000000003"),
        ]
        await record(progress, lms(tokens), batch)
        first = await fetch(progress, lms(tokens), limit="1")

        response = await progress.get(first["more"], headers=tokens.headers("l-a2", "learner") | xapi())

        assert response.status_code == 200, response.text
        assert [s["actor"]["account"]["name"] for s in response.json()["statements"]] == ["l-a2"]


class TestReadAccess:
    async def test_an_unauthenticated_caller_is_refused(
        self, apps: Apps, progress: httpx.AsyncClient, unauthenticated: dict[str, str]
    ) -> None:
        response = await progress.get("/xapi/statements", headers=unauthenticated | xapi("1.0.3"))

        problem(response, 401)
        assert response.headers["x-experience-api-version"] == "1.0.3"

    async def test_a_learner_reads_only_their_own_statements(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        mine, theirs = await record(progress, lms(tokens), [statement("l-a1"), statement("l-a2")])
        learner = tokens.headers("l-a1", "learner") | xapi()

        listed = await fetch(progress, learner)
        # Filtering by another learner narrows the caller's own view (Communication 2.1.3.s2.b3 lets
        # the LRS add filters from the credentials), so it is an empty result, not a 403.
        filtered = await fetch(progress, learner, agent=agent_param("l-a2"))
        other = await progress.get("/xapi/statements", params={"statementId": theirs}, headers=learner)

        assert ids_of(listed) == [mine]
        assert filtered == {"statements": [], "more": ""}
        assert refused(other, 404) == "statementId"

    async def test_a_teacher_reads_their_learners_statements_and_no_other_schools(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        await make_roster(apps.profile, "t1")
        a1, a2, b1 = await record(progress, lms(tokens), [statement("l-a1"), statement("l-a2"), statement("l-b1")])
        teacher_a = tokens.headers("t-a", "teacher") | xapi()

        listed = await fetch(progress, teacher_a)
        other_school = await progress.get("/xapi/statements", params={"statementId": b1}, headers=teacher_a)
        teacher_b = await fetch(progress, tokens.headers("t-b", "teacher") | xapi())

        assert sorted(ids_of(listed)) == sorted([a1, a2])
        assert refused(other_school, 404) == "statementId"
        assert ids_of(teacher_b) == [b1]

    async def test_a_client_with_read_mine_sees_only_what_it_stored(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, mine_only = await client_credentials(apps.profile, "t1", (*WRITE, "statements/read/mine"))
        (own,) = await record(progress, mine_only | xapi(), statement())
        (other,) = await record(progress, lms(tokens), statement())

        listed = await fetch(progress, mine_only | xapi())
        response = await progress.get("/xapi/statements", params={"statementId": other}, headers=mine_only | xapi())

        assert ids_of(listed) == [own]
        assert refused(response, 404) == "statementId"

    async def test_a_client_without_a_read_scope_is_forbidden(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        _, write_only = await client_credentials(apps.profile, "t1", WRITE)

        problem(await progress.get("/xapi/statements", headers=write_only | xapi()), 403)

    async def test_another_tenant_sees_none_of_the_statements_and_may_reuse_their_ids(
        self, apps: Apps, progress: httpx.AsyncClient, tokens: TokenFactory
    ) -> None:
        (statement_id,) = await record(progress, lms(tokens), statement())
        _, t2 = await client_credentials(apps.profile, "t2", WRITE_READ)

        listed = await fetch(progress, t2 | xapi())
        by_id = await progress.get("/xapi/statements", params={"statementId": statement_id}, headers=t2 | xapi())
        put = await progress.put(
            "/xapi/statements", params={"statementId": statement_id}, json=statement("l-b1"), headers=t2 | xapi()
        )

        assert listed == {"statements": [], "more": ""}
        assert refused(by_id, 404) == "statementId"
        assert put.status_code == 204, put.text
        t1_copy = await fetch(progress, lms(tokens), statementId=statement_id)
        t2_copy = await fetch(progress, t2 | xapi(), statementId=statement_id)
        assert (t1_copy["actor"], t2_copy["actor"]) == (account("l-a1"), account("l-b1"))
