"""The GET /statements output formats of a stored statement: `exact`, `ids` and `canonical`.

`ids` keeps only what identifies each Agent, Group, Activity and Verb (Communication 2.1.3); `canonical`
reduces every language map to the single entry that best fits the request's Accept-Language
(Communication 2.1.3 language filtering), applied to each map on its own. Both recurse into
SubStatements, context activities and group members. Pure functions over the stored JSON.
"""

from collections.abc import Callable, Sequence
from typing import Any, Literal

Format = Literal["exact", "ids", "canonical"]

_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


def format_statement(statement: dict[str, Any], fmt: Format, languages: Sequence[str]) -> dict[str, Any]:
    """The stored statement in the requested `format`; `languages` are Accept-Language ranges, best first."""
    if fmt == "ids":
        return _ids_statement(statement)
    if fmt == "canonical":
        return _canonical_statement(statement, [language.lower() for language in languages])
    return statement


# ids


def _ids_actor(actor: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": actor["objectType"]} if "objectType" in actor else {}
    for key in _IFI_KEYS:
        if key in actor:
            out[key] = actor[key]
            return out
    # An anonymous Group is identified by its members.
    out["member"] = [_ids_actor(member) for member in actor.get("member", ())]
    return out


def _ids_activity(activity: dict[str, Any]) -> dict[str, Any]:
    if "objectType" in activity:
        return {"objectType": activity["objectType"], "id": activity["id"]}
    return {"id": activity["id"]}


def _ids_object(target: dict[str, Any]) -> dict[str, Any]:
    object_type = target.get("objectType", "Activity")
    if object_type == "Activity":
        return _ids_activity(target)
    if object_type in ("Agent", "Group"):
        return _ids_actor(target)
    if object_type == "SubStatement":
        return _ids_statement(target)
    return target


def _ids_statement(statement: dict[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    out["actor"] = _ids_actor(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _ids_object(statement["object"])
    if "authority" in statement:
        out["authority"] = _ids_actor(statement["authority"])
    if "context" in statement:
        out["context"] = _ids_context(statement["context"])
    return out


def _ids_context(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for key in ("instructor", "team"):
        if key in out:
            out[key] = _ids_actor(out[key])
    if "contextActivities" in out:
        out["contextActivities"] = {
            key: [_ids_activity(a) for a in value] if type(value) is list else _ids_activity(value)
            for key, value in out["contextActivities"].items()
        }
    if "contextAgents" in out:
        out["contextAgents"] = [{**entry, "agent": _ids_actor(entry["agent"])} for entry in out["contextAgents"]]
    if "contextGroups" in out:
        out["contextGroups"] = [{**entry, "group": _ids_actor(entry["group"])} for entry in out["contextGroups"]]
    return out


# canonical


def pick_language(language_map: dict[str, str], languages: Sequence[str]) -> dict[str, str]:
    """The one entry of `language_map` that best fits `languages` (lowercased ranges, best first).

    For each range in turn: a key equal to it, else a key it is a prefix of (RFC 2616 14.4: `en` takes
    `en-US`); failing both, the same with the range cut back a subtag at a time (RFC 4647 lookup:
    `de-CH` takes `de`, then `de-DE`). `*` takes anything. With no match the map's first entry is kept.
    """
    if len(language_map) <= 1:
        return dict(language_map)
    lowered = {key.lower(): key for key in language_map}
    for language in languages:
        key = _match(language, lowered)
        if key is not None:
            return {key: language_map[key]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def _match(language: str, lowered: dict[str, str]) -> str | None:
    if language == "*":
        return next(iter(lowered.values()))
    while True:
        if language in lowered:
            return lowered[language]
        prefix = language + "-"
        for lower, key in lowered.items():
            if lower.startswith(prefix):
                return key
        if "-" not in language:
            return None
        language = language.rsplit("-", 1)[0]


def _canonical_statement(statement: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    def pick(language_map: dict[str, str]) -> dict[str, str]:
        return pick_language(language_map, languages)

    return _canonical(statement, pick)


def _canonical(statement: dict[str, Any], pick: Callable[[dict[str, str]], dict[str, str]]) -> dict[str, Any]:
    out = dict(statement)
    verb = statement["verb"]
    if "display" in verb:
        out["verb"] = {**verb, "display": pick(verb["display"])}
    target = statement["object"]
    object_type = target.get("objectType", "Activity")
    if object_type == "Activity":
        out["object"] = _canonical_activity(target, pick)
    elif object_type == "SubStatement":
        out["object"] = _canonical(target, pick)
    context = statement.get("context")
    if context is not None and "contextActivities" in context:
        out["context"] = {
            **context,
            "contextActivities": {
                key: [_canonical_activity(a, pick) for a in value]
                if type(value) is list
                else _canonical_activity(value, pick)
                for key, value in context["contextActivities"].items()
            },
        }
    if "attachments" in statement:
        out["attachments"] = [_canonical_maps(a, ("display", "description"), pick) for a in statement["attachments"]]
    return out


def _canonical_activity(activity: dict[str, Any], pick: Callable[[dict[str, str]], dict[str, str]]) -> dict[str, Any]:
    if "definition" not in activity:
        return activity
    definition = _canonical_maps(activity["definition"], ("name", "description"), pick)
    for key in _COMPONENT_LISTS:
        if key in definition:
            definition[key] = [_canonical_maps(c, ("description",), pick) for c in definition[key]]
    return {**activity, "definition": definition}


def _canonical_maps(
    obj: dict[str, Any], keys: tuple[str, ...], pick: Callable[[dict[str, str]], dict[str, str]]
) -> dict[str, Any]:
    out = dict(obj)
    for key in keys:
        if key in out:
            out[key] = pick(out[key])
    return out
