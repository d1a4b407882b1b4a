"""Validation of the xAPI objects statements are built from: agents, groups, verbs, activities and their parts.

Owns `XapiValidationError` and the small helpers the statement validator (`xapi_validation`) builds on.
Every check is a direct dict/type test against frozen key sets and precompiled formats: the LRS validates
thousands of statements a second, so no schema library runs per statement. Leaf checks take the parent
path and the key separately and only join them when they fail, since most values pass; for the same
reason `x = value if type(value) is dict else require_dict(...)` skips the call when the type is right.
"""

import math
from collections.abc import Callable
from typing import Any, NoReturn

from services.progress_service.xapi_formats import (
    is_iri,
    is_irl,
    is_language_tag,
    is_mailto_iri,
    is_sha1_hex,
    is_uuid,
)


class XapiValidationError(ValueError):
    """A statement breaks a rule of the spec; `path` names the property (e.g. `actor.mbox`)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.message = message
        self.path = path


def child(path: str, key: str) -> str:
    """The path of property `key` under `path`."""
    return f"{path}.{key}" if path else key


def fail(path: str, message: str, key: str | None = None) -> NoReturn:
    """Raise the validation error for `path` (or for its property `key`)."""
    raise XapiValidationError(message, path if key is None else child(path, key))


def require_dict(value: object, path: str, key: str | None = None) -> dict[str, Any]:
    """`value` as a JSON object, or the error saying why it is not one."""
    if type(value) is not dict:
        fail(path, "must not be null" if value is None else "must be a JSON object", key)
    return value


def require_list(value: object, path: str, key: str | None = None) -> list[Any]:
    """`value` as a JSON array, or the error saying why it is not one."""
    if type(value) is not list:
        fail(path, "must not be null" if value is None else "must be a JSON array", key)
    return value


def require_str(value: object, path: str, key: str | None = None) -> str:
    """`value` as a string, or the error saying why it is not one."""
    if type(value) is not str:
        fail(path, "must not be null" if value is None else "must be a string", key)
    return value


def require_number(value: object, path: str, key: str | None = None) -> float:
    """`value` as a finite JSON number (a bool is not a number), or the error."""
    if type(value) is int:
        return float(value)
    if type(value) is not float:
        fail(path, "must not be null" if value is None else "must be a number", key)
    if not math.isfinite(value):
        fail(path, "must be a finite number", key)
    return value


def require_bool(value: object, path: str, key: str | None = None) -> bool:
    """`value` as a JSON boolean (not 0/1, not "true"), or the error."""
    if type(value) is not bool:
        fail(path, "must not be null" if value is None else "must be true or false", key)
    return value


def check_keys(obj: dict[str, Any], allowed: frozenset[str], path: str) -> None:
    """Reject properties the spec does not define for this object (keys are case-sensitive)."""
    if not allowed.issuperset(obj):
        for key in obj:
            if key not in allowed:
                fail(path, "is not a property the spec allows here", key)


def check_iri(value: object, path: str, key: str | None = None) -> str:
    """An absolute IRI string, or the error."""
    text = value if type(value) is str else require_str(value, path, key)
    if not is_iri(text):
        fail(path, "must be an absolute IRI (with a scheme)", key)
    return text


def check_irl(value: object, path: str, key: str | None = None) -> str:
    """An IRL string, or the error."""
    text = value if type(value) is str else require_str(value, path, key)
    if not is_irl(text):
        fail(path, "must be an absolute IRL (with a scheme)", key)
    return text


def check_uuid(value: object, path: str, key: str | None = None) -> str:
    """A UUID string, or the error."""
    text = value if type(value) is str else require_str(value, path, key)
    if not is_uuid(text):
        fail(path, "must be a UUID in standard string form", key)
    return text


def check_language_map(value: object, path: str, key: str | None = None) -> None:
    """A language map: at least one entry, RFC 5646 tags as keys, strings as values."""
    mapping = value if type(value) is dict else require_dict(value, path, key)
    if not mapping:
        fail(path, "must have at least one entry", key)
    for tag, text in mapping.items():
        if not is_language_tag(tag) or type(text) is not str:
            map_path = path if key is None else child(path, key)
            if not is_language_tag(tag):
                fail(map_path, "is not an RFC 5646 language tag", tag)
            require_str(text, map_path, tag)


def check_extensions(value: object, path: str, key: str | None = None) -> None:
    """Extensions: IRI keys; values are any JSON, null included, and are never rejected."""
    for name in require_dict(value, path, key):
        if not is_iri(name):
            fail(path if key is None else child(path, key), "extension keys must be absolute IRIs", name)


# Agents and groups

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_AGENT_KEYS = frozenset({"objectType", "name", *IFI_KEYS})
_GROUP_KEYS = frozenset({"objectType", "name", "member", *IFI_KEYS})
_ACCOUNT_KEYS = frozenset({"homePage", "name"})


def _check_mbox(value: object, path: str, key: str) -> None:
    if not is_mailto_iri(require_str(value, path, key)):
        fail(path, "must be a mailto: IRI", key)


def _check_sha1sum(value: object, path: str, key: str) -> None:
    if not is_sha1_hex(require_str(value, path, key)):
        fail(path, "must be a hex-encoded SHA-1 (40 hex digits)", key)


def _check_openid(value: object, path: str, key: str) -> None:
    if not is_iri(require_str(value, path, key)):
        fail(path, "must be an absolute URI", key)


def _check_account(value: object, path: str, key: str) -> None:
    account = value if type(value) is dict else require_dict(value, path, key)
    path = child(path, key)
    check_keys(account, _ACCOUNT_KEYS, path)
    for required in ("homePage", "name"):
        if required not in account:
            fail(path, "is required", required)
    check_irl(account["homePage"], path, "homePage")
    require_str(account["name"], path, "name")


_IFI_CHECKS: dict[str, Callable[[object, str, str], None]] = {
    "mbox": _check_mbox,
    "mbox_sha1sum": _check_sha1sum,
    "openid": _check_openid,
    "account": _check_account,
}


def _check_ifis(obj: dict[str, Any], path: str) -> int:
    """Validate the inverse functional identifiers present and return how many there are."""
    count = 0
    for key in IFI_KEYS:
        if key in obj:
            count += 1
            _IFI_CHECKS[key](obj[key], path, key)
    return count


def check_agent(value: object, path: str) -> dict[str, Any]:
    """An Agent: objectType "Agent" or absent, optional name, exactly one inverse functional identifier."""
    agent = value if type(value) is dict else require_dict(value, path)
    if "objectType" in agent and agent["objectType"] != "Agent":
        fail(path, 'must be "Agent"', "objectType")
    check_keys(agent, _AGENT_KEYS, path)
    if "name" in agent:
        require_str(agent["name"], path, "name")
    count = _check_ifis(agent, path)
    if count != 1:
        fail(path, "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account")
    return agent


def check_group(value: object, path: str) -> dict[str, Any]:
    """A Group: anonymous (members, no identifier) or identified (one identifier); members are Agents."""
    group = value if type(value) is dict else require_dict(value, path)
    if group.get("objectType") != "Group":
        fail(path, 'must be "Group"', "objectType")
    check_keys(group, _GROUP_KEYS, path)
    if "name" in group:
        require_str(group["name"], path, "name")
    count = _check_ifis(group, path)
    if count > 1:
        fail(path, "a Group has at most one of mbox, mbox_sha1sum, openid, account")
    if "member" in group:
        members = require_list(group["member"], path, "member")
        for index, member in enumerate(members):
            member_path = f"{path}.member[{index}]"
            if type(member) is dict and member.get("objectType") == "Group":
                fail(member_path, "Group members must be Agents, not Groups")
            check_agent(member, member_path)
        if count == 0 and not members:
            fail(path, "an anonymous Group needs at least one member", "member")
    elif count == 0:
        fail(path, "is required for an anonymous Group (one without an identifier)", "member")
    return group


def check_actor(value: object, path: str) -> dict[str, Any]:
    """An Agent or a Group, told apart by objectType (absent means Agent)."""
    actor = value if type(value) is dict else require_dict(value, path)
    object_type = actor.get("objectType", "Agent")
    if object_type == "Agent":
        return check_agent(actor, path)
    if object_type == "Group":
        return check_group(actor, path)
    fail(path, 'must be "Agent" or "Group"', "objectType")


# Verbs and activities

_VERB_KEYS = frozenset({"id", "display"})
_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_COMPONENT_KEYS = frozenset({"id", "description"})
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_DEFINITION_KEYS = frozenset(
    {"name", "description", "type", "moreInfo", "extensions", "interactionType", "correctResponsesPattern"}
    | set(_COMPONENT_LISTS)
)
# Data 2.4.4.1: the interaction component lists each interactionType supports (the LRS MAY reject others).
_SUPPORTED_LISTS: dict[str, frozenset[str]] = {
    "choice": frozenset({"choices"}),
    "sequencing": frozenset({"choices"}),
    "likert": frozenset({"scale"}),
    "matching": frozenset({"source", "target"}),
    "performance": frozenset({"steps"}),
    "true-false": frozenset(),
    "fill-in": frozenset(),
    "long-fill-in": frozenset(),
    "numeric": frozenset(),
    "other": frozenset(),
}


def check_verb(value: object, path: str) -> dict[str, Any]:
    """A Verb: an IRI id and an optional display language map."""
    verb = value if type(value) is dict else require_dict(value, path)
    check_keys(verb, _VERB_KEYS, path)
    if "id" not in verb:
        fail(path, "is required", "id")
    check_iri(verb["id"], path, "id")
    if "display" in verb:
        check_language_map(verb["display"], path, "display")
    return verb


def check_activity(value: object, path: str) -> dict[str, Any]:
    """An Activity: objectType "Activity" or absent, an IRI id, an optional definition."""
    activity = value if type(value) is dict else require_dict(value, path)
    check_keys(activity, _ACTIVITY_KEYS, path)
    if "objectType" in activity and activity["objectType"] != "Activity":
        fail(path, 'must be "Activity"', "objectType")
    if "id" not in activity:
        fail(path, "is required", "id")
    check_iri(activity["id"], path, "id")
    if "definition" in activity:
        _check_definition(activity["definition"], child(path, "definition"))
    return activity


def _check_definition(value: object, path: str) -> None:
    definition = value if type(value) is dict else require_dict(value, path)
    check_keys(definition, _DEFINITION_KEYS, path)
    for key in ("name", "description"):
        if key in definition:
            check_language_map(definition[key], path, key)
    if "type" in definition:
        check_iri(definition["type"], path, "type")
    if "moreInfo" in definition:
        check_irl(definition["moreInfo"], path, "moreInfo")
    if "extensions" in definition:
        check_extensions(definition["extensions"], path, "extensions")
    if "interactionType" in definition:
        _check_interaction(definition, path)
        return
    for key in ("correctResponsesPattern", *_COMPONENT_LISTS):
        if key in definition:
            fail(path, "is only allowed in an interaction Activity (one with an interactionType)", key)


def _check_interaction(definition: dict[str, Any], path: str) -> None:
    interaction_type = require_str(definition["interactionType"], path, "interactionType")
    supported = _SUPPORTED_LISTS.get(interaction_type)
    if supported is None:
        fail(path, f"must be one of {', '.join(_SUPPORTED_LISTS)}", "interactionType")
    if "correctResponsesPattern" in definition:
        key_path = child(path, "correctResponsesPattern")
        for index, pattern in enumerate(require_list(definition["correctResponsesPattern"], key_path)):
            require_str(pattern, f"{key_path}[{index}]")
    for key in _COMPONENT_LISTS:
        if key in definition:
            if key not in supported:
                fail(path, f'is not an interaction component list of a "{interaction_type}" interaction', key)
            _check_components(definition[key], child(path, key))


def _check_components(value: object, path: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(require_list(value, path)):
        item_path = f"{path}[{index}]"
        component = item if type(item) is dict else require_dict(item, item_path)
        check_keys(component, _COMPONENT_KEYS, item_path)
        if "id" not in component:
            fail(item_path, "is required", "id")
        component_id = require_str(component["id"], item_path, "id")
        if component_id in seen:
            fail(item_path, "ids within an interaction component list must be distinct", "id")
        seen.add(component_id)
        if "description" in component:
            check_language_map(component["description"], item_path, "description")
