"""Structure validation of xAPI statements, for xAPI 1.0.3 and 2.0 (IEEE 9274.1.1).

Owns the statement-level rules: required and allowed properties, the Object kinds (Activity, Agent,
Group, StatementRef, SubStatement), result, score, context, attachments, voiding, version and timestamps.
The objects statements are made of are checked in `xapi_objects`, single value formats in `xapi_formats`.
`validate_statement` raises `XapiValidationError` at the first broken rule.
"""

from typing import Any

from services.progress_service.xapi_formats import (
    Version,
    is_duration,
    is_language_tag_like,
    is_media_type,
    is_sha2_hex,
    is_timestamp,
    is_version,
)
from services.progress_service.xapi_objects import (
    IFI_KEYS,
    XapiValidationError,
    check_activity,
    check_actor,
    check_agent,
    check_extensions,
    check_group,
    check_iri,
    check_irl,
    check_keys,
    check_language_map,
    check_uuid,
    check_verb,
    child,
    fail,
    require_bool,
    require_dict,
    require_list,
    require_number,
    require_str,
)

__all__ = ["VOIDED", "Version", "XapiValidationError", "validate_agent_or_identified_group", "validate_statement"]

VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_STATEMENT_KEYS = frozenset(
    {"id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments"}
)
_SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_NOT_IN_SUBSTATEMENT = ("id", "stored", "version", "authority")
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})
_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})
_CONTEXT_KEYS_1_0 = frozenset(
    {"registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement"}
    | {"extensions"}
)
# contextAgents and contextGroups are new in 2.0; a 1.0.3 LRS rejects them as unknown properties.
_CONTEXT_KEYS: dict[Version, frozenset[str]] = {
    "1.0.3": _CONTEXT_KEYS_1_0,
    "2.0.0": _CONTEXT_KEYS_1_0 | {"contextAgents", "contextGroups"},
}
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})
_CONTEXT_AGENT_KEYS = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_KEYS = frozenset({"objectType", "group", "relevantTypes"})
_ATTACHMENT_KEYS = frozenset({"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"})
_ATTACHMENT_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")


def validate_statement(statement: object, version: Version, *, path: str = "") -> None:
    """Raise XapiValidationError at the first broken rule; the statement is the parsed JSON."""
    data = statement if type(statement) is dict else require_dict(statement, path)
    check_keys(data, _STATEMENT_KEYS, path)
    if "id" in data:
        check_uuid(data["id"], path, "id")
    if "timestamp" in data:
        _check_timestamp(data["timestamp"], version, path, "timestamp")
    if "stored" in data:
        _check_timestamp(data["stored"], version, path, "stored")
    if "version" in data and not is_version(require_str(data["version"], path, "version"), version):
        allowed = '"1.0" or "1.0.x"' if version == "1.0.3" else '"2.0.0", "1.0" or "1.0.x"'
        fail(path, f"must be {allowed}", "version")
    if "authority" in data:
        _check_authority(data["authority"], child(path, "authority"))
    _check_body(data, version, path, nested=False)


def validate_agent_or_identified_group(value: object, path: str) -> dict[str, Any]:
    """An Agent or an identified Group (one with an inverse functional identifier), as the `agent` filter takes."""
    actor = check_actor(value, path)
    if actor.get("objectType") == "Group" and not any(key in actor for key in IFI_KEYS):
        fail(path, "must be an Agent or an identified Group, not an anonymous Group")
    return actor


def _check_body(data: dict[str, Any], version: Version, path: str, *, nested: bool) -> None:
    """The properties a Statement and a SubStatement share: actor, verb, object, result, context, attachments."""
    for key in ("actor", "verb", "object"):
        if key not in data:
            fail(path, "is required", key)
    check_actor(data["actor"], child(path, "actor"))
    verb = check_verb(data["verb"], child(path, "verb"))
    target = _check_object(data["object"], version, child(path, "object"), nested=nested)
    object_type = target.get("objectType", "Activity")
    if verb["id"] == VOIDED and object_type != "StatementRef":
        fail(path, "a voiding Statement's object must be a StatementRef", "object")
    if "result" in data:
        _check_result(data["result"], child(path, "result"))
    if "context" in data:
        _check_context(data["context"], version, child(path, "context"), object_is_activity=object_type == "Activity")
    if "attachments" in data:
        attachments_path = child(path, "attachments")
        for index, attachment in enumerate(require_list(data["attachments"], attachments_path)):
            _check_attachment(attachment, f"{attachments_path}[{index}]")


def _check_timestamp(value: object, version: Version, path: str, key: str) -> None:
    if not is_timestamp(require_str(value, path, key), version):
        if version == "1.0.3":
            fail(path, "must be an ISO 8601 date and time (a -00:00 offset is not allowed)", key)
        fail(path, "must be an RFC 3339 date and time with a time zone offset (not -00:00)", key)


def _check_authority(value: object, path: str) -> None:
    # Data 2.4.9: an Agent, or for 3-legged OAuth a Group of exactly two Agents (application and user).
    authority = check_actor(value, path)
    if authority.get("objectType") == "Group" and len(authority.get("member", ())) != 2:
        fail(path, "an authority Group must have exactly two member Agents", "member")


def _check_object(value: object, version: Version, path: str, *, nested: bool) -> dict[str, Any]:
    target = value if type(value) is dict else require_dict(value, path)
    object_type = target.get("objectType", "Activity")
    if object_type == "Activity":
        return check_activity(target, path)
    if object_type == "Agent":
        return check_agent(target, path)
    if object_type == "Group":
        return check_group(target, path)
    if object_type == "StatementRef":
        return _check_statement_ref(target, path)
    if object_type == "SubStatement":
        if nested:
            fail(path, "a SubStatement cannot contain another SubStatement", "objectType")
        _check_substatement(target, version, path)
        return target
    fail(path, 'must be "Activity", "Agent", "Group", "StatementRef" or "SubStatement"', "objectType")


def _check_statement_ref(value: object, path: str, key: str | None = None) -> dict[str, Any]:
    ref = value if type(value) is dict else require_dict(value, path, key)
    if key is not None:
        path = child(path, key)
    check_keys(ref, _STATEMENT_REF_KEYS, path)
    if ref.get("objectType") != "StatementRef":
        fail(path, 'must be "StatementRef"', "objectType")
    if "id" not in ref:
        fail(path, "is required", "id")
    check_uuid(ref["id"], path, "id")
    return ref


def _check_substatement(sub: dict[str, Any], version: Version, path: str) -> None:
    for key in _NOT_IN_SUBSTATEMENT:
        if key in sub:
            fail(path, "a SubStatement must not have id, stored, version or authority", key)
    check_keys(sub, _SUBSTATEMENT_KEYS, path)
    if "timestamp" in sub:
        _check_timestamp(sub["timestamp"], version, path, "timestamp")
    _check_body(sub, version, path, nested=True)


def _check_result(value: object, path: str) -> None:
    result = value if type(value) is dict else require_dict(value, path)
    check_keys(result, _RESULT_KEYS, path)
    if "score" in result:
        _check_score(result["score"], path)
    if "success" in result:
        require_bool(result["success"], path, "success")
    if "completion" in result:
        require_bool(result["completion"], path, "completion")
    if "response" in result:
        require_str(result["response"], path, "response")
    if "duration" in result and not is_duration(require_str(result["duration"], path, "duration")):
        fail(path, "must be an ISO 8601 duration (PnYnMnDTnHnMnS or PnW)", "duration")
    if "extensions" in result:
        check_extensions(result["extensions"], path, "extensions")


def _check_score(value: object, result_path: str) -> None:
    score = value if type(value) is dict else require_dict(value, result_path, "score")
    path = child(result_path, "score")
    check_keys(score, _SCORE_KEYS, path)
    scaled = require_number(score["scaled"], path, "scaled") if "scaled" in score else None
    raw = require_number(score["raw"], path, "raw") if "raw" in score else None
    low = require_number(score["min"], path, "min") if "min" in score else None
    high = require_number(score["max"], path, "max") if "max" in score else None
    if scaled is not None and not -1.0 <= scaled <= 1.0:
        fail(path, "must be between -1 and 1", "scaled")
    if low is not None and high is not None and not low < high:
        fail(path, "must be less than max", "min")
    if raw is not None and low is not None and raw < low:
        fail(path, "must not be less than min", "raw")
    if raw is not None and high is not None and raw > high:
        fail(path, "must not be greater than max", "raw")


def _check_context(value: object, version: Version, path: str, *, object_is_activity: bool) -> None:
    context = value if type(value) is dict else require_dict(value, path)
    check_keys(context, _CONTEXT_KEYS[version], path)
    if "registration" in context:
        check_uuid(context["registration"], path, "registration")
    if "instructor" in context:
        check_actor(context["instructor"], child(path, "instructor"))
    if "team" in context:
        check_group(context["team"], child(path, "team"))
    if "contextActivities" in context:
        _check_context_activities(context["contextActivities"], child(path, "contextActivities"))
    for key in ("revision", "platform"):
        if key in context:
            require_str(context[key], path, key)
            if not object_is_activity:
                fail(path, "is only allowed when the Statement's object is an Activity", key)
    if "language" in context and not is_language_tag_like(require_str(context["language"], path, "language")):
        fail(path, "must be an RFC 5646 language tag", "language")
    if "statement" in context:
        _check_statement_ref(context["statement"], path, "statement")
    if "extensions" in context:
        check_extensions(context["extensions"], path, "extensions")
    if "contextAgents" in context:
        _check_context_members(context["contextAgents"], child(path, "contextAgents"), agents=True)
    if "contextGroups" in context:
        _check_context_members(context["contextGroups"], child(path, "contextGroups"), agents=False)


def _check_context_activities(value: object, path: str) -> None:
    activities = value if type(value) is dict else require_dict(value, path)
    check_keys(activities, _CONTEXT_ACTIVITY_KEYS, path)
    for key, entry in activities.items():
        key_path = child(path, key)
        if type(entry) is list:
            for index, activity in enumerate(entry):
                check_activity(activity, f"{key_path}[{index}]")
        else:
            # A single Activity is allowed for 0.95 compatibility; the LRS returns it as a list of one.
            check_activity(entry, key_path)


def _check_context_members(value: object, path: str, *, agents: bool) -> None:
    keys, object_type, member = (
        (_CONTEXT_AGENT_KEYS, "contextAgent", "agent") if agents else (_CONTEXT_GROUP_KEYS, "contextGroup", "group")
    )
    for index, item in enumerate(require_list(value, path)):
        item_path = f"{path}[{index}]"
        entry = item if type(item) is dict else require_dict(item, item_path)
        check_keys(entry, keys, item_path)
        if entry.get("objectType") != object_type:
            fail(item_path, f'must be "{object_type}"', "objectType")
        if member not in entry:
            fail(item_path, "is required", member)
        if agents:
            check_agent(entry["agent"], child(item_path, "agent"))
        else:
            check_group(entry["group"], child(item_path, "group"))
        if "relevantTypes" in entry:
            types_path = child(item_path, "relevantTypes")
            relevant_types = require_list(entry["relevantTypes"], types_path)
            if not relevant_types:
                fail(types_path, "must hold at least one IRI")
            for type_index, relevant_type in enumerate(relevant_types):
                check_iri(relevant_type, f"{types_path}[{type_index}]")


def _check_attachment(value: object, path: str) -> None:
    attachment = value if type(value) is dict else require_dict(value, path)
    check_keys(attachment, _ATTACHMENT_KEYS, path)
    for key in _ATTACHMENT_REQUIRED:
        if key not in attachment:
            fail(path, "is required", key)
    check_iri(attachment["usageType"], path, "usageType")
    check_language_map(attachment["display"], path, "display")
    if "description" in attachment:
        check_language_map(attachment["description"], path, "description")
    if not is_media_type(require_str(attachment["contentType"], path, "contentType")):
        fail(path, "must be an Internet Media Type", "contentType")
    length = attachment["length"]
    if type(length) is not int or length < 0:
        fail(path, "must not be null" if length is None else "must be a non-negative integer", "length")
    if not is_sha2_hex(require_str(attachment["sha2"], path, "sha2")):
        fail(path, "must be a hex SHA-2 digest (SHA-224, -256, -384 or -512)", "sha2")
    if "fileUrl" in attachment:
        check_irl(attachment["fileUrl"], path, "fileUrl")
