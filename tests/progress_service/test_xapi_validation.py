"""xAPI statement validation: every rule with a valid and an invalid case, for 1.0.3 and 2.0."""

import copy
import re
from typing import Any

import pytest

from services.progress_service.xapi_formats import Version
from services.progress_service.xapi_validation import VOIDED, XapiValidationError, validate_statement

VERSIONS: tuple[Version, ...] = ("1.0.3", "2.0.0")
UUID = "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
SHA256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
DELETE = object()


def statement() -> dict[str, Any]:
    """A statement using nearly every property, valid under both versions."""
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "Ada", "account": {"homePage": "https://sis.example", "name": "s1"}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/answered",
            "display": {"en-US": "answered", "de": "beantwortet"},
        },
        "object": {
            "objectType": "Activity",
            "id": "https://plp.dev/activities/q17",
            "definition": {
                "name": {"en-US": "Question 17"},
                "description": {"en-US": "Pick the even numbers"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "moreInfo": "https://plp.dev/q17",
                "interactionType": "choice",
                "correctResponsesPattern": ["a[,]b"],
                "choices": [{"id": "a", "description": {"en-US": "2"}}, {"id": "b", "description": {"en-US": "4"}}],
                "extensions": {"https://plp.dev/xapi/extensions/competency": ["alg.1"]},
            },
        },
        "result": {
            "score": {"scaled": 0.8, "raw": 8, "min": 0, "max": 10},
            "success": True,
            "completion": True,
            "response": "a[,]b",
            "duration": "PT1M30.5S",
            "extensions": {"https://plp.dev/xapi/extensions/hints": None},
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"mbox": "mailto:teacher@school.example"},
            "team": {"objectType": "Group", "name": "Team A", "member": [{"mbox": "mailto:ada@school.example"}]},
            "contextActivities": {
                "parent": [{"id": "https://plp.dev/activities/quiz3"}],
                "grouping": {"objectType": "Activity", "id": "https://plp.dev/courses/algebra"},
            },
            "revision": "2",
            "platform": "PLP web",
            "language": "en-US",
            "statement": {"objectType": "StatementRef", "id": UUID},
            "extensions": {"https://plp.dev/xapi/extensions/attempt": 2},
        },
        "timestamp": "2024-05-01T10:00:00.123Z",
        "stored": "2024-05-01T10:00:01.000Z",
        "authority": {"objectType": "Agent", "account": {"homePage": "https://plp.dev/api-clients", "name": "c"}},
        "version": "1.0.0",
        "attachments": [
            {
                "usageType": "http://adlnet.gov/expapi/attachments/signature",
                "display": {"en-US": "Signature"},
                "description": {"en-US": "JWS signature"},
                "contentType": "application/octet-stream",
                "length": 27,
                "sha2": SHA256,
                "fileUrl": "https://files.example/sig",
            }
        ],
    }


def substatement() -> dict[str, Any]:
    return {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:ada@school.example"},
        "verb": {"id": "http://example.com/planned"},
        "object": {"id": "https://plp.dev/activities/q18"},
        "timestamp": "2030-01-01T00:00:00Z",
        "context": {"contextActivities": {"parent": {"id": "https://plp.dev/activities/quiz3"}}, "platform": "PLP"},
        "result": {"completion": False},
    }


def changed(path: str, value: object) -> dict[str, Any]:
    """The base statement with the property at `path` (`a.b[0].c`) set to `value` or deleted."""
    data = statement()
    parts = [int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", path)]
    target: Any = data
    for part in parts[:-1]:
        target = target[part]
    if value is DELETE:
        del target[parts[-1]]
    else:
        target[parts[-1]] = copy.deepcopy(value)
    return data


def error_path(data: object, version: Version) -> str:
    with pytest.raises(XapiValidationError) as caught:
        validate_statement(data, version)
    return caught.value.path


@pytest.mark.parametrize("version", VERSIONS)
def test_full_statement_is_valid(version: Version) -> None:
    validate_statement(statement(), version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("", {"actor": {"mbox": "mailto:a@b.example"}, "verb": {"id": "http://x.example/v"}, "object": {"id": "t:x"}}),
        ("object.objectType", DELETE),  # Activity is the default
        ("actor.objectType", DELETE),  # Agent is the default
        ("actor", {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}),
        ("actor", {"openid": "http://toby.openid.example.org/"}),
        ("actor", {"objectType": "Group", "member": [{"mbox": "mailto:a@b.example"}]}),
        ("actor", {"objectType": "Group", "mbox": "mailto:team@b.example"}),
        ("actor", {"objectType": "Group", "mbox": "mailto:team@b.example", "member": []}),
        ("verb.display", DELETE),
        ("verb.display", {"i-enochian": "x", "zh-cmn-Hans-CN": "y", "x-whatever": "z"}),
        ("object.definition", {"interactionType": "likert", "scale": [{"id": "1"}, {"id": "2"}]}),
        ("object.definition", {"interactionType": "matching", "source": [{"id": "a"}], "target": [{"id": "1"}]}),
        ("object.definition", {"interactionType": "performance", "steps": [{"id": "s1"}]}),
        ("object.definition", {"interactionType": "sequencing", "choices": [{"id": "t"}, {"id": "m"}]}),
        ("object.definition", {"interactionType": "true-false", "correctResponsesPattern": ["true"]}),
        ("object.definition", {"interactionType": "numeric", "correctResponsesPattern": []}),
        ("object.definition", {"interactionType": "other"}),
        ("object.definition", {"extensions": {}}),
        ("result.score", {}),
        ("result.score", {"raw": -5}),
        ("result.score", {"scaled": -1, "raw": 10, "min": 0, "max": 10}),
        ("result.duration", "P4W"),
        ("result.extensions", {"http://example.com/null": None}),
        ("context.contextActivities.parent", {"id": "https://plp.dev/activities/quiz3"}),
        ("context.contextActivities.other", []),
        ("context.language", "supercalifragilisticexpialidociouswhatabouthhhhhhh"),
        ("context.instructor", {"objectType": "Group", "member": [{"mbox": "mailto:t@b.example"}]}),
        (
            "authority",
            {
                "objectType": "Group",
                "member": [
                    {"account": {"homePage": "http://x.example", "name": "app"}},
                    {"mbox": "mailto:a@b.example"},
                ],
            },
        ),
        ("attachments", []),
        ("attachments[0].sha2", "c" * 128),
        ("attachments[0].fileUrl", DELETE),
        ("attachments[0].description", DELETE),
        ("version", "1.0"),
        ("version", "1.0.3"),
        ("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"),
    ],
)
def test_valid_variants(version: Version, path: str, value: object) -> None:
    data = value if path == "" else changed(path, value)
    validate_statement(data, version)


def _agent_object(**extra: Any) -> dict[str, Any]:
    data = changed("object", {"objectType": "Agent", "mbox": "mailto:bob@b.example", **extra})
    del data["context"]["revision"], data["context"]["platform"]
    return data


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_object_kinds(version: Version) -> None:
    validate_statement(_agent_object(), version)
    group = changed("object", {"objectType": "Group", "member": [{"mbox": "mailto:a@b.example"}]})
    del group["context"]["revision"]
    del group["context"]["platform"]
    validate_statement(group, version)
    ref = changed("object", {"objectType": "StatementRef", "id": UUID})
    del ref["context"]["revision"], ref["context"]["platform"]
    validate_statement(ref, version)
    voiding = copy.deepcopy(ref)
    voiding["verb"] = {"id": VOIDED, "display": {"en-US": "voided"}}
    validate_statement(voiding, version)
    sub = changed("object", substatement())
    del sub["context"]["revision"], sub["context"]["platform"]
    sub["object"]["attachments"] = statement()["attachments"]
    validate_statement(sub, version)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # statement properties
        ("foo", 1, "foo"),
        ("Actor", {"mbox": "mailto:a@b.example"}, "Actor"),  # keys are case-sensitive
        ("actor", DELETE, "actor"),
        ("verb", DELETE, "verb"),
        ("object", DELETE, "object"),
        ("actor", None, "actor"),
        ("id", "AA97B177-9383-4934-8543-0F91A7A028368", "id"),
        ("id", 12345, "id"),
        ("timestamp", "2008-09-15T15:53:00.601-00:00", "timestamp"),
        ("timestamp", "should fail", "timestamp"),
        ("stored", "01/011/2015", "stored"),
        ("version", "1.1.0", "version"),
        ("version", 1.0, "version"),
        ("authority", {"name": "x"}, "authority"),
        ("authority", {"objectType": "Group", "member": [{"mbox": "mailto:a@b.example"}]}, "authority.member"),
        # agents, groups, accounts
        ("actor.mbox", "mailto:a@b.example", "actor"),  # two identifiers
        ("actor.account", DELETE, "actor"),  # no identifier
        ("actor.objectType", "Person", "actor.objectType"),
        ("actor.objectType", "agent", "actor.objectType"),
        ("actor.name", None, "actor.name"),
        ("actor.name", 7, "actor.name"),
        ("actor.account.homePage", "not a url", "actor.account.homePage"),
        ("actor.account.name", {"key": "x"}, "actor.account.name"),
        ("actor.account.name", DELETE, "actor.account.name"),
        ("actor.account.homePage", DELETE, "actor.account.homePage"),
        ("actor.account.extra", 1, "actor.account.extra"),
        ("actor.account", "s1", "actor.account"),
        ("actor", {"mbox": "ada@example.org"}, "actor.mbox"),
        ("actor", {"mbox": ""}, "actor.mbox"),
        ("actor", {"mbox_sha1sum": "xyz"}, "actor.mbox_sha1sum"),
        ("actor", {"openid": "not a uri"}, "actor.openid"),
        ("actor", {"mbox": "mailto:a@b.example", "member": []}, "actor.member"),  # an Agent has no members
        ("actor", {"objectType": "Group"}, "actor.member"),
        ("actor", {"objectType": "Group", "member": []}, "actor.member"),
        ("actor", {"objectType": "Group", "member": {"mbox": "mailto:a@b.example"}}, "actor.member"),
        (
            "actor",
            {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:t@b.example"}]},
            "actor.member[0]",
        ),
        ("actor", {"objectType": "Group", "member": [{"name": "no identifier"}]}, "actor.member[0]"),
        ("actor", {"objectType": "Group", "mbox": "mailto:t@b.example", "openid": "http://t.example"}, "actor"),
        # verbs
        ("verb.id", "answered", "verb.id"),
        ("verb.id", DELETE, "verb.id"),
        ("verb.display", {}, "verb.display"),
        ("verb.display", "answered", "verb.display"),
        ("verb.display", {"de-419-DE": "x"}, "verb.display.de-419-DE"),
        ("verb.display", {"en-US": None}, "verb.display.en-US"),
        ("verb.description", {"en-US": "x"}, "verb.description"),
        # activities and definitions
        ("object.objectType", "Thing", "object.objectType"),
        ("object.objectType", "activity", "object.objectType"),
        ("object.id", DELETE, "object.id"),
        ("object.id", "q17", "object.id"),
        ("object.definition", "x", "object.definition"),
        ("object.definition.type", "x", "object.definition.type"),
        ("object.definition.moreInfo", None, "object.definition.moreInfo"),
        ("object.definition.name", {}, "object.definition.name"),
        ("object.definition.description", {"a12345": "x"}, "object.definition.description.a12345"),
        ("object.definition.interactionType", "Choice", "object.definition.interactionType"),
        ("object.definition.interactionType", 5, "object.definition.interactionType"),
        ("object.definition.interactionType", DELETE, "object.definition.correctResponsesPattern"),
        ("object.definition.correctResponsesPattern", "a", "object.definition.correctResponsesPattern"),
        ("object.definition.correctResponsesPattern", [1], "object.definition.correctResponsesPattern[0]"),
        ("object.definition.scale", [{"id": "1"}], "object.definition.scale"),  # not a list of "choice"
        ("object.definition.choices[1].id", "a", "object.definition.choices[1].id"),  # ids must be distinct
        ("object.definition.choices[0].id", DELETE, "object.definition.choices[0].id"),
        ("object.definition.choices[0].label", "x", "object.definition.choices[0].label"),
        (
            "object.definition.choices[0].description",
            {"a12345": "x"},
            "object.definition.choices[0].description.a12345",
        ),
        ("object.definition.extensions", {"not-an-iri": 1}, "object.definition.extensions.not-an-iri"),
        ("object.definition.extensions", "x", "object.definition.extensions"),
        ("object.definition.interactionType2", "x", "object.definition.interactionType2"),
        ("object.mbox", "mailto:a@b.example", "object.mbox"),  # no objectType means Activity
        # other object kinds
        ("object", {"objectType": "Agent"}, "object"),
        ("object", {"objectType": "StatementRef", "id": "nope"}, "object.id"),
        ("object", {"objectType": "StatementRef"}, "object.id"),
        ("object", {"objectType": "StatementRef", "id": UUID, "definition": {}}, "object.definition"),
        ("verb.id", VOIDED, "object"),  # a voiding statement's object must be a StatementRef
        # result and score
        ("result", "passed", "result"),
        ("result.success", "true", "result.success"),
        ("result.completion", 1, "result.completion"),
        ("result.response", 5, "result.response"),
        ("result.duration", "PA1H0M0S", "result.duration"),
        ("result.duration", 12345, "result.duration"),
        ("result.extensions", "x", "result.extensions"),
        ("result.extra", 1, "result.extra"),
        ("result.score", 5, "result.score"),
        ("result.score.scaled", 1.01, "result.score.scaled"),
        ("result.score.scaled", -1.00001, "result.score.scaled"),
        ("result.score.max", "100", "result.score.max"),
        ("result.score.raw", True, "result.score.raw"),
        ("result.score.raw", None, "result.score.raw"),
        ("result.score.raw", float("nan"), "result.score.raw"),
        ("result.score.raw", 11, "result.score.raw"),
        ("result.score.raw", -1, "result.score.raw"),
        ("result.score.min", 10, "result.score.min"),  # min must be less than max
        ("result.score.extra", 1, "result.score.extra"),
        # context
        ("context", None, "context"),
        ("context.extra", 1, "context.extra"),
        ("context.registration", "x", "context.registration"),
        ("context.registration", None, "context.registration"),
        ("context.instructor", {"name": "no identifier"}, "context.instructor"),
        ("context.team", {"mbox": "mailto:a@b.example"}, "context.team.objectType"),
        ("context.contextActivities", [], "context.contextActivities"),
        ("context.contextActivities.child", [], "context.contextActivities.child"),
        ("context.contextActivities.parent", [{"id": "x"}], "context.contextActivities.parent[0].id"),
        (
            "context.contextActivities.parent",
            [{"id": "http://a.example"}, {"key": "x"}],
            "context.contextActivities.parent[1].key",
        ),
        ("context.contextActivities.grouping", "http://x.example", "context.contextActivities.grouping"),
        ("context.revision", 2, "context.revision"),
        ("context.platform", None, "context.platform"),
        ("context.language", "en_US", "context.language"),
        ("context.statement", {"id": UUID}, "context.statement.objectType"),
        ("context.statement", {"objectType": "StatementRef", "id": "x"}, "context.statement.id"),
        ("context.extensions", {"x": 1}, "context.extensions.x"),
        # attachments
        ("attachments", {}, "attachments"),
        ("attachments[0]", "x", "attachments[0]"),
        ("attachments[0].usageType", "x", "attachments[0].usageType"),
        ("attachments[0].display", DELETE, "attachments[0].display"),
        ("attachments[0].display", {}, "attachments[0].display"),
        ("attachments[0].description", "x", "attachments[0].description"),
        ("attachments[0].contentType", 5, "attachments[0].contentType"),
        ("attachments[0].contentType", "text", "attachments[0].contentType"),
        ("attachments[0].length", -1, "attachments[0].length"),
        ("attachments[0].length", "27", "attachments[0].length"),
        ("attachments[0].length", 27.5, "attachments[0].length"),
        ("attachments[0].length", DELETE, "attachments[0].length"),
        ("attachments[0].sha2", DELETE, "attachments[0].sha2"),
        ("attachments[0].sha2", "abc", "attachments[0].sha2"),
        ("attachments[0].fileUrl", "nope", "attachments[0].fileUrl"),
        ("attachments[0].extra", 1, "attachments[0].extra"),
    ],
)
def test_invalid(version: Version, path: str, value: object, expected: str) -> None:
    assert error_path(changed(path, value), version) == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_revision_and_platform_need_an_activity_object(version: Version) -> None:
    data = _agent_object()
    data["context"]["platform"] = "PLP"
    assert error_path(data, version) == "context.platform"
    data = changed("object", {"objectType": "StatementRef", "id": UUID})
    del data["context"]["platform"]
    assert error_path(data, version) == "context.revision"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("id", UUID, "object.id"),
        ("stored", "2024-05-01T10:00:00Z", "object.stored"),
        ("version", "1.0.0", "object.version"),
        ("authority", {"mbox": "mailto:a@b.example"}, "object.authority"),
        ("object", substatement(), "object.object.objectType"),  # no nesting
        ("verb", DELETE, "object.verb"),
        ("timestamp", "tomorrow", "object.timestamp"),
        ("foo", 1, "object.foo"),
        ("verb", {"id": VOIDED}, "object.object"),
        ("context.revision", "3", "object.context.revision"),
    ],
)
def test_invalid_substatement(version: Version, path: str, value: object, expected: str) -> None:
    sub = substatement()
    if path == "context.revision":
        sub["object"] = {"objectType": "Agent", "mbox": "mailto:a@b.example"}
        sub["context"] = {"revision": value}
    elif value is DELETE:
        del sub[path]
    else:
        sub[path] = value
    data = changed("object", sub)
    del data["context"]["revision"], data["context"]["platform"]
    assert error_path(data, version) == expected


CONTEXT_AGENTS = [
    {
        "objectType": "contextAgent",
        "agent": {"objectType": "Agent", "mbox": "mailto:coach@b.example"},
        "relevantTypes": ["https://example.com/xapi/activity-types/coach"],
    },
    {"objectType": "contextAgent", "agent": {"mbox": "mailto:peer@b.example"}},
]
CONTEXT_GROUPS = [
    {
        "objectType": "contextGroup",
        "group": {"objectType": "Group", "mbox": "mailto:team-1@b.example", "member": [{"mbox": "mailto:p@b.example"}]},
        "relevantTypes": ["https://example.com/xapi/activity-types/team"],
    }
]


@pytest.mark.parametrize("key", ["contextAgents", "contextGroups"])
def test_context_agents_and_groups_are_2_0_only(key: str) -> None:
    data = changed(f"context.{key}", CONTEXT_AGENTS if key == "contextAgents" else CONTEXT_GROUPS)
    validate_statement(data, "2.0.0")
    assert error_path(data, "1.0.3") == f"context.{key}"
    sub = substatement()
    sub["context"] = {key: data["context"][key]}
    with_sub = changed("object", sub)
    del with_sub["context"]["revision"], with_sub["context"]["platform"]
    validate_statement(with_sub, "2.0.0")
    assert error_path(with_sub, "1.0.3") == f"object.context.{key}"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("context.contextAgents", CONTEXT_AGENTS[0], "context.contextAgents"),
        (
            "context.contextAgents",
            [{**CONTEXT_AGENTS[0], "objectType": "Should fail"}],
            "context.contextAgents[0].objectType",
        ),
        ("context.contextAgents", [{"agent": CONTEXT_AGENTS[0]["agent"]}], "context.contextAgents[0].objectType"),
        ("context.contextAgents", [{"objectType": "contextAgent"}], "context.contextAgents[0].agent"),
        (
            "context.contextAgents",
            [{"objectType": "contextAgent", "agent": {"key": "x"}}],
            "context.contextAgents[0].agent.key",
        ),
        (
            "context.contextAgents",
            [{"objectType": "contextAgent", "agent": CONTEXT_GROUPS[0]["group"]}],
            "context.contextAgents[0].agent.objectType",
        ),
        (
            "context.contextAgents",
            [{**CONTEXT_AGENTS[0], "relevantTypes": []}],
            "context.contextAgents[0].relevantTypes",
        ),
        (
            "context.contextAgents",
            [{**CONTEXT_AGENTS[0], "relevantTypes": ["abc"]}],
            "context.contextAgents[0].relevantTypes[0]",
        ),
        (
            "context.contextGroups",
            [{**CONTEXT_GROUPS[0], "objectType": "contextAgent"}],
            "context.contextGroups[0].objectType",
        ),
        ("context.contextGroups", [{**CONTEXT_GROUPS[0], "member": []}], "context.contextGroups[0].member"),
        (
            "context.contextGroups",
            [{"objectType": "contextGroup", "group": {"key": "x"}}],
            "context.contextGroups[0].group.objectType",
        ),
        (
            "context.contextGroups",
            [{"objectType": "contextGroup", "group": {"objectType": "Group"}}],
            "context.contextGroups[0].group.member",
        ),
    ],
)
def test_invalid_context_agents_and_groups(path: str, value: object, expected: str) -> None:
    assert error_path(changed(path, value), "2.0.0") == expected


@pytest.mark.parametrize(
    ("path", "value", "ok_1_0_3", "ok_2_0"),
    [
        ("timestamp", "2024-05-01T10:00:00.123", True, False),  # 2.0 requires a time zone offset
        ("timestamp", "2008-09-15 15:53:00.601+00:00", False, True),  # RFC 3339 space separator
        ("stored", "20240501T100000Z", True, False),
        ("version", "2.0.0", False, True),
    ],
)
def test_version_specific_values(path: str, value: object, ok_1_0_3: bool, ok_2_0: bool) -> None:
    expectations: tuple[tuple[Version, bool], ...] = (("1.0.3", ok_1_0_3), ("2.0.0", ok_2_0))
    for version, ok in expectations:
        data = changed(path, value)
        if ok:
            validate_statement(data, version)
        else:
            assert error_path(data, version) == path


def test_error_reads_path_then_message() -> None:
    with pytest.raises(XapiValidationError) as caught:
        validate_statement(changed("actor", {"mbox": "ada@example.org"}), "2.0.0")
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == "actor.mbox: must be a mailto: IRI"
    assert caught.value.message == "must be a mailto: IRI"


def test_path_prefix_names_the_statement_in_a_batch() -> None:
    with pytest.raises(XapiValidationError) as caught:
        validate_statement(changed("verb.id", "answered"), "1.0.3", path="[3]")
    assert caught.value.path == "[3].verb.id"


@pytest.mark.parametrize("data", [[], "statement", None, 5])
def test_statement_must_be_an_object(data: object) -> None:
    assert error_path(data, "2.0.0") == ""
