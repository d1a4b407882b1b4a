"""The query parameters and headers of the xAPI resources (statements, documents, Agents, Activities), checked.

Each reader returns the parameter in the form the use cases take (the agent as its identifier key,
the registration lowercased, `since` as an aware datetime) or raises the 400 naming it. Lengths are
capped at the document tables' column widths, so PostgreSQL never sees an oversized key.
"""

from datetime import datetime
from typing import Any

import orjson
from fastapi import Request

from kit.errors import BadRequestError
from services.progress_service.documents import Conditions
from services.progress_service.xapi_formats import Version, is_iri, is_uuid, parse_timestamp
from services.progress_service.xapi_statements import parse_agent_param
from services.progress_service.xapi_validation import XapiValidationError

MAX_ACTIVITY_ID = 2048
MAX_AGENT_IFI = 1024
MAX_DOCUMENT_ID = 255
MAX_CONTENT_TYPE = 255


def required_param(params: dict[str, str], name: str) -> str:
    """A parameter that must be present and non-empty."""
    value = params.get(name)
    if not value:
        raise BadRequestError(f"{name} is required.", field=name)
    return value


def activity_id_param(params: dict[str, str]) -> str:
    """`activityId`: an absolute IRI."""
    value = required_param(params, "activityId")
    if len(value) > MAX_ACTIVITY_ID or not is_iri(value):
        raise BadRequestError(
            f"activityId must be an absolute IRI of at most {MAX_ACTIVITY_ID} characters.", field="activityId"
        )
    return value


def agent_param(params: dict[str, str], version: Version) -> tuple[dict[str, Any], str]:
    """`agent`: its parsed JSON and its inverse functional identifier key."""
    text = required_param(params, "agent")
    ifi = agent_key(text, version)
    agent: dict[str, Any] = orjson.loads(text)
    return agent, ifi


def agent_key(text: str, version: Version) -> str:
    """The inverse functional identifier key of an `agent` parameter's JSON."""
    try:
        ifi = parse_agent_param(text, version)
    except XapiValidationError as exc:
        raise BadRequestError(str(exc), field="agent") from exc
    if len(ifi) > MAX_AGENT_IFI:
        raise BadRequestError(f"agent: its identifier is longer than {MAX_AGENT_IFI} characters.", field="agent")
    return ifi


def registration_param(params: dict[str, str]) -> str | None:
    """`registration` when given: a UUID, lowercased so its case never splits a document in two."""
    value = params.get("registration")
    if value is None:
        return None
    if not is_uuid(value):
        raise BadRequestError("registration must be a UUID.", field="registration")
    return value.lower()


def document_id_param(params: dict[str, str], name: str) -> str:
    """`stateId` or `profileId`: any non-empty string up to the column width."""
    value = required_param(params, name)
    if len(value) > MAX_DOCUMENT_ID:
        raise BadRequestError(f"{name} is longer than {MAX_DOCUMENT_ID} characters.", field=name)
    return value


def since_param(params: dict[str, str], version: Version, id_param: str) -> datetime | None:
    """`since` when given; 2.0 forbids it beside the document id, 1.0.3 does not say, so there it is ignored."""
    if "since" not in params:
        return None
    if id_param in params and version == "2.0.0":
        raise BadRequestError(f"since is not allowed with {id_param} (it filters lists of ids).", field="since")
    return timestamp_param(params, "since")


def timestamp_param(params: dict[str, str], name: str) -> datetime | None:
    """A timestamp parameter (`since`, `until`) when given, as an aware datetime."""
    text = params.get(name)
    if text is None:
        return None
    try:
        return parse_timestamp(text)
    except ValueError as exc:
        raise BadRequestError(f"{name} must be an ISO 8601 timestamp.", field=name) from exc


def write_conditions(request: Request, *, refuse_blind_overwrite: bool) -> Conditions:
    """The request's `If-Match` and `If-None-Match`, and whether overwriting without either is refused."""
    headers = request.headers
    return Conditions(headers.get("if-match"), headers.get("if-none-match"), refuse_blind_overwrite)


def content_type_header(request: Request) -> str | None:
    """The document's `Content-Type`, stored with it and sent back on reads."""
    value = request.headers.get("content-type")
    if value is not None and len(value) > MAX_CONTENT_TYPE:
        raise BadRequestError(f"Content-Type is longer than {MAX_CONTENT_TYPE} characters.", field="Content-Type")
    return value
