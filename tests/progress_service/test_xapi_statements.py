"""What the LRS does with valid xAPI statements: completion, comparison, output formats, references."""

import copy
from typing import Any

import pytest

from services.progress_service.xapi_formats import Version
from services.progress_service.xapi_statements import (
    VOIDED,
    References,
    agent_ifi,
    complete_statement,
    format_statement,
    is_voiding,
    parse_agent_param,
    pick_language,
    references,
    statements_equivalent,
)
from services.progress_service.xapi_validation import XapiValidationError, validate_statement

STORED = "2024-05-01T10:00:01.000Z"
AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://plp.dev/api-clients", "name": "client-1"}}
REF_ID = "e05aa883-acaf-40ad-bf54-02c8ce485fb0"


def statement() -> dict[str, Any]:
    return {
        "actor": {
            "objectType": "Group",
            "name": "Team A",
            "member": [
                {"mbox": "mailto:ada@school.example"},
                {"account": {"homePage": "https://sis.example", "name": "s2"}},
            ],
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted", "display": {"en-US": "attempted", "de": "versucht"}},
        "object": {
            "id": "https://plp.dev/activities/q17",
            "definition": {
                "name": {"en-US": "Question 17", "en-GB": "Question seventeen", "fr": "Question 17 (fr)"},
                "description": {"en": "Pick", "de-DE": "Wähle"},
                "interactionType": "choice",
                "choices": [{"id": "a", "description": {"en-US": "two", "de": "zwei"}}],
            },
        },
        "result": {"score": {"raw": 8, "max": 10}, "success": True, "duration": "PT1M30.1234S"},
        "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "instructor": {"mbox": "mailto:teacher@school.example"},
            "team": {
                "objectType": "Group",
                "mbox": "mailto:team@school.example",
                "member": [{"mbox": "mailto:t2@school.example"}],
            },
            "contextActivities": {
                "parent": {
                    "id": "https://plp.dev/activities/quiz3",
                    "definition": {"name": {"en-US": "Quiz", "de": "Test"}},
                },
                "category": [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}],
            },
            "statement": {"objectType": "StatementRef", "id": REF_ID},
            "extensions": {"https://plp.dev/xapi/extensions/attempt": 2},
        },
        "timestamp": "2024-05-01T12:00:00.123+02:00",
        "attachments": [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "Signature", "de": "Signatur"},
                "contentType": "application/octet-stream",
                "length": 27,
                "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
            }
        ],
    }


def substatement() -> dict[str, Any]:
    return {
        "objectType": "SubStatement",
        "actor": {"openid": "http://toby.openid.example.org/"},
        "verb": {"id": "http://example.com/planned", "display": {"en-US": "planned", "fr": "planifié"}},
        "object": {"objectType": "Agent", "name": "Bob", "mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
        "context": {
            "instructor": {"mbox": "mailto:coach@school.example"},
            "contextActivities": {
                "other": {"id": "https://plp.dev/activities/plan", "definition": {"name": {"de": "Plan"}}}
            },
        },
        "timestamp": "2030-01-01T01:00:00+01:00",
    }


def complete(data: dict[str, Any], version: Version = "2.0.0") -> dict[str, Any]:
    validate_statement(data, version)
    return complete_statement(data, version, statement_id="S-1", stored=STORED, authority=AUTHORITY)


# complete_statement


def test_completion_sets_lrs_properties_without_touching_the_input() -> None:
    original = statement()
    before = copy.deepcopy(original)
    stored = complete(original)
    assert original == before
    assert stored["id"] == "S-1"
    assert stored["stored"] == STORED
    assert stored["authority"] == AUTHORITY
    assert stored["authority"] is not AUTHORITY
    assert stored["timestamp"] == "2024-05-01T10:00:00.123Z"  # re-expressed in UTC
    assert stored["version"] == "2.0.0"
    assert stored["context"]["contextActivities"]["parent"] == [before["context"]["contextActivities"]["parent"]]
    assert stored["context"]["contextActivities"]["category"] == before["context"]["contextActivities"]["category"]


@pytest.mark.parametrize(("version", "default"), [("1.0.3", "1.0.0"), ("2.0.0", "2.0.0")])
def test_completion_defaults_version_and_timestamp(version: Version, default: str) -> None:
    data = statement()
    del data["timestamp"]
    stored = complete(data, version)
    assert stored["version"] == default
    assert stored["timestamp"] == STORED


def test_completion_keeps_given_values_but_overwrites_lrs_owned_ones() -> None:
    data = statement()
    data.update(version="1.0.3", id=REF_ID, stored="2000-01-01T00:00:00Z", authority={"mbox": "mailto:x@y.example"})
    stored = complete(data)
    assert stored["version"] == "1.0.3"
    assert (stored["id"], stored["stored"], stored["authority"]) == ("S-1", STORED, AUTHORITY)


def test_completion_normalizes_a_substatement() -> None:
    data = statement()
    data["object"] = substatement()
    stored = complete(data)
    assert stored["object"]["timestamp"] == "2030-01-01T00:00:00.000Z"
    assert stored["object"]["context"]["contextActivities"]["other"] == [
        substatement()["context"]["contextActivities"]["other"]
    ]


# statements_equivalent


def test_stored_statement_matches_what_was_sent() -> None:
    assert statements_equivalent(complete(statement()), statement())
    assert statements_equivalent(statement(), complete(statement()))


def _variant(change: str) -> dict[str, Any]:
    data = statement()
    if change == "member order":
        data["actor"]["member"].reverse()
    elif change == "mbox case":
        data["context"]["instructor"]["mbox"] = "MAILTO:teacher@SCHOOL.Example"
    elif change == "registration case":
        data["context"]["registration"] = data["context"]["registration"].lower()
    elif change == "timestamp zone":
        data["timestamp"] = "2024-05-01T10:00:00.1234Z"
    elif change == "no timestamp":
        del data["timestamp"]
    elif change == "definition":
        data["object"]["definition"] = {"name": {"en-US": "Renamed"}}
    elif change == "display":
        del data["verb"]["display"]
    elif change == "attachments":
        del data["attachments"]
    elif change == "list context activity":
        data["context"]["contextActivities"]["parent"] = [{"id": "https://plp.dev/activities/quiz3"}]
    elif change == "duration precision":
        data["result"]["duration"] = "PT1M30.12S"
    elif change == "explicit object type":
        data["object"]["objectType"] = "Activity"
    elif change == "lrs properties":
        data.update(id=REF_ID, version="1.0.0", stored=STORED, authority={"mbox": "mailto:x@y.example"})
    elif change == "integer score as float":
        data["result"]["score"]["raw"] = 8.0
    elif change == "statement ref case":
        data["context"]["statement"]["id"] = REF_ID.upper()
    return data


@pytest.mark.parametrize(
    "change",
    [
        "member order",
        "mbox case",
        "registration case",
        "timestamp zone",
        "no timestamp",
        "definition",
        "display",
        "attachments",
        "list context activity",
        "duration precision",
        "explicit object type",
        "lrs properties",
        "integer score as float",
        "statement ref case",
    ],
)
def test_differences_the_spec_ignores(change: str) -> None:
    assert statements_equivalent(complete(statement()), _variant(change))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("result", "success"), False),
        (("result", "score", "raw"), 9),
        (("result", "duration"), "PT1M31S"),
        (("actor", "name"), "Team B"),
        (("verb", "id"), "http://adlnet.gov/expapi/verbs/completed"),
        (("object", "id"), "https://plp.dev/activities/q18"),
        (("context", "extensions", "https://plp.dev/xapi/extensions/attempt"), True),  # true is not 2 (nor 1)
        (("context", "registration"), REF_ID),
        (("timestamp",), "2024-05-01T10:00:01Z"),
        (("context", "contextActivities", "category"), [{"id": "https://plp.dev/other"}]),
        (("context", "instructor"), {"mbox": "mailto:Teacher@school.example"}),  # the local part is case-sensitive
    ],
)
def test_content_differences_count(path: tuple[str, ...], value: object) -> None:
    data = statement()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert not statements_equivalent(complete(statement()), data)


def test_extension_true_differs_from_one() -> None:
    one, true = statement(), statement()
    one["result"]["extensions"] = {"https://plp.dev/x": 1}
    true["result"]["extensions"] = {"https://plp.dev/x": True}
    assert not statements_equivalent(one, true)


def test_substatement_timestamp_is_compared() -> None:
    with_sub = statement()
    with_sub["object"] = substatement()
    same_instant = copy.deepcopy(with_sub)
    same_instant["object"]["timestamp"] = "2030-01-01T00:00:00Z"
    assert statements_equivalent(complete(with_sub), same_instant)
    later = copy.deepcopy(with_sub)
    later["object"]["timestamp"] = "2030-01-01T00:00:01Z"
    assert not statements_equivalent(with_sub, later)
    missing = copy.deepcopy(with_sub)
    del missing["object"]["timestamp"]
    assert not statements_equivalent(with_sub, missing)


# format_statement


def test_exact_format_is_the_stored_statement() -> None:
    stored = complete(statement())
    assert format_statement(stored, "exact", ["de"]) is stored


def test_ids_format_keeps_only_identifiers() -> None:
    data = statement()
    data["object"] = substatement()
    data["context"]["contextAgents"] = [
        {"objectType": "contextAgent", "agent": {"name": "C", "mbox": "mailto:c@b.example"}}
    ]
    out = format_statement(complete(data), "ids", [])
    assert out["actor"] == {  # anonymous Group: identified by its members
        "objectType": "Group",
        "member": [
            {"mbox": "mailto:ada@school.example"},
            {"account": {"homePage": "https://sis.example", "name": "s2"}},
        ],
    }
    assert out["verb"] == {"id": "http://adlnet.gov/expapi/verbs/attempted"}
    assert out["authority"] == AUTHORITY
    assert out["context"]["team"] == {"objectType": "Group", "mbox": "mailto:team@school.example"}
    assert out["context"]["contextActivities"]["parent"] == [{"id": "https://plp.dev/activities/quiz3"}]
    assert out["context"]["contextAgents"][0]["agent"] == {"mbox": "mailto:c@b.example"}
    assert out["context"]["extensions"] == data["context"]["extensions"]
    sub = out["object"]
    assert sub["verb"] == {"id": "http://example.com/planned"}
    assert sub["object"] == {"objectType": "Agent", "mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"}
    assert sub["context"]["contextActivities"]["other"] == [{"id": "https://plp.dev/activities/plan"}]
    assert out["result"] == data["result"]
    activity = format_statement(complete(statement()), "ids", [])["object"]
    assert activity == {"id": "https://plp.dev/activities/q17"}


def test_canonical_format_keeps_one_language_per_map() -> None:
    data = statement()
    data["context"]["contextActivities"]["other"] = [substatement()["context"]["contextActivities"]["other"]]
    out = format_statement(complete(data), "canonical", ["de-CH", "en"])
    assert out["verb"]["display"] == {"de": "versucht"}  # de-CH falls back to de
    definition = out["object"]["definition"]
    assert definition["name"] == {"en-US": "Question 17"}  # en takes its first en-* entry
    assert definition["description"] == {"de-DE": "Wähle"}  # de-CH cut back to de, which takes de-DE
    assert definition["choices"][0]["description"] == {"de": "zwei"}
    assert out["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {"de": "Test"}
    assert out["attachments"][0]["display"] == {"de": "Signatur"}
    assert out["actor"] == data["actor"]  # agents stay exact


def test_canonical_format_reaches_into_substatements() -> None:
    data = statement()
    data["object"] = substatement()
    out = format_statement(complete(data), "canonical", ["fr"])
    assert out["object"]["verb"]["display"] == {"fr": "planifié"}
    assert out["object"]["context"]["contextActivities"]["other"][0]["definition"]["name"] == {"de": "Plan"}


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["fr"], {"fr": "F"}),
        (["EN-gb"], {"en-GB": "GB"}),
        (["en"], {"en": "EN"}),
        (["en-AU"], {"en": "EN"}),  # lookup falls back to the shorter range
        (["ja", "fr"], {"fr": "F"}),
        (["*"], {"en-US": "US"}),
        (["ja"], {"en-US": "US"}),  # nothing fits: the first entry
        ([], {"en-US": "US"}),
    ],
)
def test_pick_language(languages: list[str], expected: dict[str, str]) -> None:
    language_map = {"en-US": "US", "en-GB": "GB", "en": "EN", "fr": "F"}
    assert pick_language(language_map, [language.lower() for language in languages]) == expected


@pytest.mark.parametrize(
    ("languages", "expected"),
    [
        (["en"], {"en-US": "US"}),  # the first key the range is a prefix of
        (["en-AU", "fr"], {"en-US": "US"}),  # cut back to en, which takes en-US before trying fr
        (["fr-CA"], {"fr": "F"}),
    ],
)
def test_pick_language_by_prefix(languages: list[str], expected: dict[str, str]) -> None:
    assert (
        pick_language({"en-US": "US", "en-GB": "GB", "fr": "F"}, [language.lower() for language in languages])
        == expected
    )


# agents and references


@pytest.mark.parametrize(
    ("agent", "ifi"),
    [
        ({"mbox": "MAILTO:Ada@School.EXAMPLE"}, "mbox:mailto:Ada@school.example"),
        (
            {"mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
            "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
        ),
        ({"openid": "http://toby.openid.example.org/"}, "openid:http://toby.openid.example.org/"),
        ({"account": {"homePage": "https://sis.example", "name": "s|1"}}, "account:https://sis.example|s|1"),
        ({"objectType": "Group", "mbox": "mailto:t@b.example", "member": []}, "mbox:mailto:t@b.example"),
        ({"objectType": "Group", "member": [{"mbox": "mailto:a@b.example"}]}, None),
    ],
)
def test_agent_ifi(agent: dict[str, Any], ifi: str | None) -> None:
    assert agent_ifi(agent) == ifi


def test_references_of_a_statement() -> None:
    data = statement()
    data["context"]["contextAgents"] = [{"objectType": "contextAgent", "agent": {"mbox": "mailto:coach@b.example"}}]
    data["context"]["contextGroups"] = [
        {"objectType": "contextGroup", "group": {"objectType": "Group", "openid": "http://g.example/"}}
    ]
    refs = references(complete(data))
    members = {"mbox:mailto:ada@school.example", "account:https://sis.example|s2"}
    assert refs.agents == members  # an anonymous Group matches through its members
    assert refs.related_agents == members | {
        "account:https://plp.dev/api-clients|client-1",
        "mbox:mailto:teacher@school.example",
        "mbox:mailto:team@school.example",
        "mbox:mailto:t2@school.example",
        "mbox:mailto:coach@b.example",
        "openid:http://g.example/",
    }
    assert refs.activities == {"https://plp.dev/activities/q17"}
    assert refs.related_activities == {
        "https://plp.dev/activities/q17",
        "https://plp.dev/activities/quiz3",
        "https://w3id.org/xapi/cmi5/context/categories/cmi5",
    }
    assert refs.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    assert refs.statement_ref is None  # context.statement does not count


def test_references_reach_into_a_substatement() -> None:
    data = statement()
    data["object"] = substatement()
    del data["context"]
    refs = references(data)
    assert "openid:http://toby.openid.example.org/" not in refs.agents
    assert refs.activities == frozenset()
    assert {
        "openid:http://toby.openid.example.org/",
        "mbox_sha1sum:ebd31e95054c018b10727ccffd2ef2ec3a016ee9",
        "mbox:mailto:coach@school.example",
    } <= refs.related_agents
    assert refs.related_activities == {"https://plp.dev/activities/plan"}
    assert refs.registration is None


def test_references_of_agent_objects_and_statement_refs() -> None:
    data = statement()
    data["object"] = {"objectType": "Agent", "mbox": "mailto:bob@b.example"}
    assert "mbox:mailto:bob@b.example" in references(data).agents
    voiding = {
        "actor": {"mbox": "mailto:admin@b.example"},
        "verb": {"id": VOIDED},
        "object": {"objectType": "StatementRef", "id": REF_ID.upper()},
    }
    refs = references(voiding)
    assert refs == References(
        agents=frozenset({"mbox:mailto:admin@b.example"}),
        related_agents=frozenset({"mbox:mailto:admin@b.example"}),
        activities=frozenset(),
        related_activities=frozenset(),
        registration=None,
        statement_ref=REF_ID,
    )
    assert is_voiding(voiding)
    assert not is_voiding(statement())


@pytest.mark.parametrize(
    ("text", "ifi"),
    [
        ('{"mbox": "mailto:Ada@School.example"}', "mbox:mailto:Ada@school.example"),
        (
            '{"objectType": "Agent", "account": {"homePage": "https://sis.example", "name": "s1"}}',
            "account:https://sis.example|s1",
        ),
        ('{"objectType": "Group", "openid": "http://g.example/", "member": []}', "openid:http://g.example/"),
    ],
)
def test_parse_agent_param(text: str, ifi: str) -> None:
    assert parse_agent_param(text, "2.0.0") == ifi


@pytest.mark.parametrize(
    "text",
    [
        "mailto:ada@school.example",
        "{",
        "[]",
        '"mailto:ada@school.example"',
        '{"mbox": "ada@school.example"}',
        '{"mbox": "mailto:a@b.example", "openid": "http://a.example/"}',
        '{"objectType": "Group", "member": [{"mbox": "mailto:a@b.example"}]}',
        '{"objectType": "Activity", "id": "http://a.example"}',
    ],
)
def test_parse_agent_param_rejects(text: str) -> None:
    with pytest.raises(XapiValidationError) as caught:
        parse_agent_param(text, "1.0.3")
    assert caught.value.path == "agent"
