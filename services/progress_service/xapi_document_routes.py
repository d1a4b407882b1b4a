"""The xAPI document resources (`/xapi/activities/state`, `/xapi/activities/profile`, `/xapi/agents/profile`),
the Agents resource (`/xapi/agents`) and the Activities resource (`/xapi/activities`).

Bodies are read raw and stored as sent, under the Content-Type they came with. Concurrency follows
the version the request speaks: a PUT over an existing document without `If-Match` or
`If-None-Match` is refused (409) for the profile resources in 1.0.3, and for state too in 2.0,
whose LRS requirements dropped 1.0.3's exemption for state (the ADL 2.0 conformance suite tests it).
"""

from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import SessionDep
from kit.errors import BadRequestError, NotFoundError
from services.progress_service import documents
from services.progress_service.access import check_agent_document_access, check_client_scope
from services.progress_service.documents import Conditions, DocumentKey
from services.progress_service.xapi_auth import PROFILE_READ, PROFILE_WRITE, STATE_READ, STATE_WRITE, XapiPrincipal
from services.progress_service.xapi_formats import Version
from services.progress_service.xapi_objects import IFI_KEYS
from services.progress_service.xapi_params import (
    activity_id_param,
    agent_param,
    content_type_header,
    document_id_param,
    registration_param,
    since_param,
    write_conditions,
)
from services.progress_service.xapi_protocol import XapiVersion, check_params

router = APIRouter(prefix="/xapi", tags=["xAPI documents"])

STATE_PARAMS = frozenset({"activityId", "agent", "registration", "stateId"})
ACTIVITY_PROFILE_PARAMS = frozenset({"activityId", "profileId"})
AGENT_PROFILE_PARAMS = frozenset({"agent", "profileId"})

_CONDITIONS = (
    " Honours `If-Match` (412 when the stored ETag differs or nothing is stored) and `If-None-Match`"
    " (412 when `*` and a document exists)."
)
_ONE_OR_IDS = (
    " With `{id}` the document itself (its stored Content-Type, `ETag`, `Last-Modified`; 404 when absent);"
    " without it a JSON array of the ids stored, only those changed after `since` when given. HEAD answers the"
    " same headers without a body."
)
_MERGE = (
    " When a document is stored already, both it and the body must be `application/json` objects and the body's"
    " top-level properties replace the stored ones (400 otherwise); else the body is stored as it is."
)


# State


@router.get(
    "/activities/state",
    summary="One state document, or the ids of an activity's state for an agent",
    description="Open to API clients with `state` or `all/read` and to the learner the agent is."
    + _ONE_OR_IDS.format(id="stateId")
    + " `registration` narrows the ids to one registration.",
)
@router.head("/activities/state", include_in_schema=False)
async def get_state(request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep) -> Response:
    """One state document (`stateId`) or the list of state ids."""
    params = check_params(request, STATE_PARAMS | {"since"})
    since = since_param(params, version, "stateId")
    activity_id, ifi, registration = _state_context(params, version, principal, STATE_READ, "Reading state")
    if "stateId" not in params:
        scope = documents.state_scope(principal.tenant_id, activity_id, ifi, registration)
        return await _ids(request, session, documents.STATE, scope, since)
    key = documents.state_key(principal.tenant_id, activity_id, ifi, registration, document_id_param(params, "stateId"))
    return await _one(request, session, key)


@router.put(
    "/activities/state",
    status_code=204,
    summary="Store a state document",
    description="Stores the body under `stateId`. In xAPI 2.0 replacing an existing document needs `If-Match`"
    " or `If-None-Match` (409 without); 1.0.3 allows it without." + _CONDITIONS,
)
async def put_state(request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep) -> Response:
    """Store (replace) one state document."""
    key = _state_key(request, version, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=version == "2.0.0")
    return await _store(request, session, key, conditions, merge=False)


@router.post(
    "/activities/state",
    status_code=204,
    summary="Store or merge into a state document",
    description="Stores the body under `stateId`." + _MERGE + _CONDITIONS,
)
async def post_state(request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep) -> Response:
    """Store one state document, or merge the body into the stored JSON object."""
    key = _state_key(request, version, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=False)
    return await _store(request, session, key, conditions, merge=True)


@router.delete(
    "/activities/state",
    status_code=204,
    summary="Delete one state document, or all of an activity's state for an agent",
    description="With `stateId` deletes that document (honouring `If-Match`); without it every state document"
    " of the activity and agent, of one `registration` when given.",
)
async def delete_state(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Delete one state document, or all in the context."""
    params = check_params(request, STATE_PARAMS)
    activity_id, ifi, registration = _state_context(params, version, principal, STATE_WRITE, "Deleting state")
    if "stateId" not in params:
        scope = documents.state_scope(principal.tenant_id, activity_id, ifi, registration)
        await documents.delete_documents(session, documents.STATE, scope)
        return Response(status_code=204)
    key = documents.state_key(principal.tenant_id, activity_id, ifi, registration, document_id_param(params, "stateId"))
    await documents.delete_document(session, key, write_conditions(request, refuse_blind_overwrite=False))
    return Response(status_code=204)


def _state_key(request: Request, version: Version, principal: Principal) -> DocumentKey:
    """The single state document a write names, once the caller may write it."""
    params = check_params(request, STATE_PARAMS)
    state_id = document_id_param(params, "stateId")
    activity_id, ifi, registration = _state_context(params, version, principal, STATE_WRITE, "Writing state")
    return documents.state_key(principal.tenant_id, activity_id, ifi, registration, state_id)


def _state_context(
    params: dict[str, str], version: Version, principal: Principal, scopes: frozenset[str], what: str
) -> tuple[str, str, str | None]:
    """`activityId`, the agent's identifier key and `registration`, once the caller may act for the agent."""
    activity_id, (agent, ifi), registration = (
        activity_id_param(params),
        agent_param(params, version),
        registration_param(params),
    )
    check_agent_document_access(principal, agent, scopes, what)
    return activity_id, ifi, registration


# Activity profiles


@router.get(
    "/activities/profile",
    summary="One activity profile document, or the ids of an activity's profiles",
    description="Open to every caller of the tenant." + _ONE_OR_IDS.format(id="profileId"),
)
@router.head("/activities/profile", include_in_schema=False)
async def get_activity_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """One activity profile (`profileId`) or the list of profile ids."""
    params = check_params(request, ACTIVITY_PROFILE_PARAMS | {"since"})
    activity_id, since = activity_id_param(params), since_param(params, version, "profileId")
    if "profileId" not in params:
        scope = {"tenant_id": principal.tenant_id, "activity_id": activity_id}
        return await _ids(request, session, documents.ACTIVITY_PROFILE, scope, since)
    key = documents.activity_profile_key(principal.tenant_id, activity_id, document_id_param(params, "profileId"))
    return await _one(request, session, key)


@router.put(
    "/activities/profile",
    status_code=204,
    summary="Store an activity profile document",
    description="API clients with `profile`. Replacing an existing document needs `If-Match` or `If-None-Match`"
    " (409 without)." + _CONDITIONS,
)
async def put_activity_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store (replace) one activity profile document."""
    key = _activity_profile_key(request, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=True)
    return await _store(request, session, key, conditions, merge=False)


@router.post(
    "/activities/profile",
    status_code=204,
    summary="Store or merge into an activity profile document",
    description="API clients with `profile`." + _MERGE + _CONDITIONS,
)
async def post_activity_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store one activity profile document, or merge the body into the stored JSON object."""
    key = _activity_profile_key(request, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=False)
    return await _store(request, session, key, conditions, merge=True)


@router.delete(
    "/activities/profile",
    status_code=204,
    summary="Delete an activity profile document",
    description="API clients with `profile`; honours `If-Match`.",
)
async def delete_activity_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Delete one activity profile document."""
    key = _activity_profile_key(request, principal)
    await documents.delete_document(session, key, write_conditions(request, refuse_blind_overwrite=False))
    return Response(status_code=204)


def _activity_profile_key(request: Request, principal: Principal) -> DocumentKey:
    """The activity profile a write names, after checking the caller may write profiles."""
    params = check_params(request, ACTIVITY_PROFILE_PARAMS)
    activity_id, profile_id = activity_id_param(params), document_id_param(params, "profileId")
    check_client_scope(principal, PROFILE_WRITE, "Writing activity profiles")
    return documents.activity_profile_key(principal.tenant_id, activity_id, profile_id)


# Agent profiles


@router.get(
    "/agents/profile",
    summary="One agent profile document, or the ids of an agent's profiles",
    description="Open to API clients with `profile` or `all/read` and to the learner the agent is."
    + _ONE_OR_IDS.format(id="profileId"),
)
@router.head("/agents/profile", include_in_schema=False)
async def get_agent_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """One agent profile (`profileId`) or the list of profile ids."""
    params = check_params(request, AGENT_PROFILE_PARAMS | {"since"})
    (agent, ifi), since = agent_param(params, version), since_param(params, version, "profileId")
    check_agent_document_access(principal, agent, PROFILE_READ, "Reading agent profiles")
    if "profileId" not in params:
        scope = {"tenant_id": principal.tenant_id, "agent_ifi": ifi}
        return await _ids(request, session, documents.AGENT_PROFILE, scope, since)
    key = documents.agent_profile_key(principal.tenant_id, ifi, document_id_param(params, "profileId"))
    return await _one(request, session, key)


@router.put(
    "/agents/profile",
    status_code=204,
    summary="Store an agent profile document",
    description="API clients with `profile` and the learner the agent is. Replacing an existing document needs"
    " `If-Match` or `If-None-Match` (409 without)." + _CONDITIONS,
)
async def put_agent_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store (replace) one agent profile document."""
    key = _agent_profile_key(request, version, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=True)
    return await _store(request, session, key, conditions, merge=False)


@router.post(
    "/agents/profile",
    status_code=204,
    summary="Store or merge into an agent profile document",
    description="API clients with `profile` and the learner the agent is." + _MERGE + _CONDITIONS,
)
async def post_agent_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store one agent profile document, or merge the body into the stored JSON object."""
    key = _agent_profile_key(request, version, principal)
    conditions = write_conditions(request, refuse_blind_overwrite=False)
    return await _store(request, session, key, conditions, merge=True)


@router.delete(
    "/agents/profile",
    status_code=204,
    summary="Delete an agent profile document",
    description="API clients with `profile` and the learner the agent is; honours `If-Match`.",
)
async def delete_agent_profile(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Delete one agent profile document."""
    key = _agent_profile_key(request, version, principal)
    await documents.delete_document(session, key, write_conditions(request, refuse_blind_overwrite=False))
    return Response(status_code=204)


def _agent_profile_key(request: Request, version: Version, principal: Principal) -> DocumentKey:
    """The agent profile a write names, after checking the caller may write it."""
    params = check_params(request, AGENT_PROFILE_PARAMS)
    (agent, ifi), profile_id = agent_param(params, version), document_id_param(params, "profileId")
    check_agent_document_access(principal, agent, PROFILE_WRITE, "Writing agent profiles")
    return documents.agent_profile_key(principal.tenant_id, ifi, profile_id)


# Agents and activities


@router.get(
    "/agents",
    summary="The Person object of an agent",
    description="A Person: `objectType` and arrays of the agent's `name` and identifier. This LRS keeps no"
    " directory of other personas, so the Person holds what the `agent` parameter says.",
)
@router.head("/agents", include_in_schema=False)
async def get_person(request: Request, version: XapiVersion, principal: XapiPrincipal) -> Response:
    """The Person object for `agent`."""
    agent, _ifi = agent_param(check_params(request, {"agent"}), version)
    if agent.get("objectType", "Agent") != "Agent":
        raise BadRequestError("agent: must be an Agent, not a Group.", field="agent")
    person: dict[str, Any] = {"objectType": "Person"}
    for name in ("name", *IFI_KEYS):
        if name in agent:
            person[name] = [agent[name]]
    return _json(request, person)


@router.get(
    "/activities",
    summary="The canonical Activity object",
    description="The Activity with the definition merged from the statements stored about it; an Activity"
    " with only its `id` when none named a definition.",
)
@router.head("/activities", include_in_schema=False)
async def get_activity(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """The canonical Activity object for `activityId`."""
    activity_id = activity_id_param(check_params(request, {"activityId"}))
    return _json(request, await documents.get_activity(session, principal.tenant_id, activity_id))


# Responses


def _http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


async def _one(request: Request, session: AsyncSession, key: DocumentKey) -> Response:
    document = await documents.get_document(session, key)
    if document is None:
        raise NotFoundError(f"No {key.kind.noun} {key.document_id!r} is stored here.", field=key.kind.id_param)
    headers = {"ETag": document.etag, "Last-Modified": _http_date(document.updated_at)}
    return _bytes(request, document.content, document.content_type, headers)


async def _ids(
    request: Request, session: AsyncSession, kind: documents.DocumentKind, scope: dict[str, str], since: datetime | None
) -> Response:
    ids, latest = await documents.list_document_ids(session, kind, scope, since)
    headers = {} if latest is None else {"Last-Modified": _http_date(latest)}
    return _json(request, ids, headers)


async def _store(
    request: Request, session: AsyncSession, key: DocumentKey, conditions: Conditions, *, merge: bool
) -> Response:
    """PUT (replace) or POST (merge) the body at `key`; 204 with the stored document's ETag."""
    write = documents.merge_document if merge else documents.put_document
    document = await write(session, key, await request.body(), content_type_header(request), conditions)
    return Response(status_code=204, headers={"ETag": document.etag})


def _json(request: Request, body: Any, headers: dict[str, str] | None = None) -> Response:
    content = orjson.dumps(body)
    return _bytes(request, content, "application/json", {"ETag": documents.etag_of(content), **(headers or {})})


def _bytes(request: Request, content: bytes, content_type: str, headers: dict[str, str]) -> Response:
    """A response with `content_type` exactly as given (no charset added); HEAD keeps the headers, drops the body."""
    response = Response(content, headers={**headers, "Content-Type": content_type})
    if request.method == "HEAD":
        response.body = b""
    return response
