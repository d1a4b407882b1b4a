"""The xAPI Statement resource (`/xapi/statements`) and `/xapi/about`.

Bodies are read raw (JSON or `multipart/mixed` with attachments) and checked by the xAPI rules,
not by pydantic, so errors are the spec's 400s naming the property at fault.
"""

from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from kit.auth import Principal
from kit.db import SessionDep
from kit.errors import BadRequestError, NotFoundError
from services.progress_service import statement_query, statement_store
from services.progress_service.access import statement_visibility
from services.progress_service.models import Statement, StatementAttachment
from services.progress_service.statement_query import DEFAULT_LIMIT, MAX_LIMIT, StatementFilter
from services.progress_service.xapi_auth import XapiPrincipal
from services.progress_service.xapi_formats import Version, format_timestamp, is_iri, is_uuid
from services.progress_service.xapi_multipart import (
    Attachment,
    MultipartError,
    build_multipart,
    check_attachments,
    parse_statement_request,
)
from services.progress_service.xapi_params import agent_key, registration_param, timestamp_param
from services.progress_service.xapi_protocol import (
    CONSISTENT_THROUGH_HEADER,
    SUPPORTED_VERSIONS,
    XapiVersion,
    check_params,
)
from services.progress_service.xapi_statements import format_statement

router = APIRouter(prefix="/xapi", tags=["xAPI"])

MAX_BODY_BYTES = 32 * 1024 * 1024
FILTER_PARAMS = frozenset(
    {"agent", "verb", "activity", "registration", "related_activities", "related_agents", "since", "until", "limit"}
)
FORMAT_PARAMS = frozenset({"format", "attachments"})
LIST_PARAMS = FILTER_PARAMS | FORMAT_PARAMS | {"ascending"}
ONLY_2_0_CONTEXT = ("contextAgents", "contextGroups")


@router.get("/about", summary="The xAPI versions this LRS speaks")
@router.head("/about", include_in_schema=False)
async def about(request: Request) -> Response:
    """`{"version": [...]}`: every version this LRS answers in (no version header needed)."""
    check_params(request, ())
    return _json(request, {"version": list(SUPPORTED_VERSIONS)})


@router.put("/statements", status_code=204, summary="Store one statement under a given id")
async def put_statement(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store the body under `statementId` (204); the same content again is accepted, other content is 409."""
    params = check_params(request, {"statementId"})
    statement_id = params.get("statementId")
    if statement_id is None or not is_uuid(statement_id):
        raise BadRequestError("statementId is required and must be a UUID.", field="statementId")
    body, attachments = await _read_statements(request)
    if not isinstance(body, dict):
        raise BadRequestError("PUT takes one statement object.", field="statement")
    if "id" in body and str(body["id"]).lower() != statement_id.lower():
        raise BadRequestError("The statement's id differs from statementId.", field="id")
    statement = {**body, "id": statement_id.lower()}
    statements = statement_store.validate_batch([statement], version, single=True)
    _check_attachments(statements, attachments)
    directory = request.app.state.learner_directory
    await statement_store.record_statements(session, principal, version, statements, attachments, directory)
    return Response(status_code=204)


@router.post("/statements", summary="Store one statement or a list; returns their ids")
async def post_statements(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Store the statements (all or none) and return their ids in order; ids are made where absent."""
    check_params(request, ())
    body, attachments = await _read_statements(request)
    single = isinstance(body, dict)
    statements = statement_store.validate_batch([body] if single else body, version, single=single)
    _check_attachments(statements, attachments)
    directory = request.app.state.learner_directory
    ids = await statement_store.record_statements(session, principal, version, statements, attachments, directory)
    return _json(request, ids)


@router.get("/statements", summary="One statement, or a filtered page of them")
@router.head("/statements", include_in_schema=False)
async def get_statements(
    request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """`statementId`/`voidedStatementId` for one statement, else the filtered list with a `more` link."""
    params = check_params(request, LIST_PARAMS | {"statementId", "voidedStatementId"})
    single: list[str] = [name for name in ("statementId", "voidedStatementId") if name in params]
    if single:
        return await _get_one(request, version, principal, session, params, single)
    query = _parse_filter(params, version)
    return await _list(request, version, principal, session, query)


@router.get("/statements/more/{token}", summary="The next page of a statements query")
@router.head("/statements/more/{token}", include_in_schema=False)
async def more_statements(
    token: str, request: Request, version: XapiVersion, principal: XapiPrincipal, session: SessionDep
) -> Response:
    """Continue the query a `more` link was made for."""
    check_params(request, ())
    return await _list(request, version, principal, session, statement_query.decode_cursor(token))


async def _get_one(
    request: Request,
    version: Version,
    principal: Principal,
    session: SessionDep,
    params: dict[str, str],
    single: list[str],
) -> Response:
    stray = sorted(set(params) - set(single) - FORMAT_PARAMS)
    if len(single) > 1 or stray:
        field = single[1] if len(single) > 1 else stray[0]
        raise BadRequestError(f"{single[0]} may be combined only with format and attachments.", field=field)
    name = single[0]
    if not is_uuid(params[name]):
        raise BadRequestError(f"{name} must be a UUID.", field=name)
    fmt = _choice(params, "format", ("exact", "ids", "canonical"), "exact")
    attachments = _flag(params, "attachments")
    learners, credential = await statement_visibility(principal, request.app.state.learner_access)
    consistent_through = format_timestamp(datetime.now(UTC))
    row = await statement_query.find_one(session, principal.tenant_id, params[name], voided=name == "voidedStatementId")
    if row is None or not _visible(row, learners, credential):
        raise NotFoundError(f"No statement {params[name]} here.", field=name)
    body = _render(row.body, fmt, version, _languages(request))
    headers = {CONSISTENT_THROUGH_HEADER: consistent_through, "Last-Modified": format_datetime(row.stored, usegmt=True)}
    return await _respond(request, session, principal.tenant_id, body, [row], attachments, headers)


async def _list(
    request: Request, version: Version, principal: Principal, session: SessionDep, query: StatementFilter
) -> Response:
    learners, credential = await statement_visibility(principal, request.app.state.learner_access)
    consistent_through = format_timestamp(datetime.now(UTC))
    page = await statement_query.find_page(
        session, principal.tenant_id, replace(query, learners=learners, credential=credential)
    )
    languages = _languages(request)
    result: dict[str, Any] = {
        "statements": [_render(row.body, query.format, version, languages) for row in page.statements],
        "more": "",
    }
    if page.next is not None:
        root = request.scope.get("root_path", "")
        result["more"] = f"{root}{router.prefix}/statements/more/{statement_query.encode_cursor(page.next)}"
    newest = max((row.stored for row in page.statements), default=None)
    newest = newest or await statement_query.latest_stored(session, principal.tenant_id) or datetime.now(UTC)
    headers = {CONSISTENT_THROUGH_HEADER: consistent_through, "Last-Modified": format_datetime(newest, usegmt=True)}
    return await _respond(request, session, principal.tenant_id, result, page.statements, query.attachments, headers)


def _visible(row: Statement, learners: frozenset[str] | None, credential: str | None) -> bool:
    if credential is not None and row.credential != credential:
        return False
    return learners is None or row.learner_id in learners


def _parse_filter(params: dict[str, str], version: Version) -> StatementFilter:
    """The list query, each parameter checked (400 naming it when malformed)."""
    for name in ("verb", "activity"):
        if name in params and not is_iri(params[name]):
            raise BadRequestError(f"{name} must be an IRI.", field=name)
    limit = params.get("limit", str(DEFAULT_LIMIT))
    if not limit.isdigit():
        raise BadRequestError("limit must be a non-negative integer.", field="limit")
    return StatementFilter(
        agent=agent_key(params["agent"], version) if "agent" in params else None,
        verb=params.get("verb"),
        activity=params.get("activity"),
        registration=registration_param(params),
        related_activities=_flag(params, "related_activities"),
        related_agents=_flag(params, "related_agents"),
        since=timestamp_param(params, "since"),
        until=timestamp_param(params, "until"),
        limit=min(int(limit), MAX_LIMIT) or MAX_LIMIT,
        format=_choice(params, "format", ("exact", "ids", "canonical"), "exact"),  # type: ignore[arg-type]
        attachments=_flag(params, "attachments"),
        ascending=_flag(params, "ascending"),
    )


def _flag(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "false")
    if value not in ("true", "false"):
        raise BadRequestError(f"{name} must be true or false.", field=name)
    return value == "true"


def _choice(params: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise BadRequestError(f"{name} must be one of {', '.join(allowed)}.", field=name)
    return value


def _languages(request: Request) -> list[str]:
    """The Accept-Language tags, most wanted first."""
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("accept-language", "").split(",")):
        tag, _, quality = part.strip().partition(";q=")
        if tag:
            try:
                weight = float(quality) if quality else 1.0
            except ValueError:
                weight = 0.0
            weighted.append((-weight, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def _render(body: dict[str, Any], fmt: str, version: Version, languages: list[str]) -> dict[str, Any]:
    """A stored statement as the caller asked for it: format applied, and in 1.0.3 without 2.0-only context."""
    rendered = format_statement(body, fmt, languages)  # type: ignore[arg-type]
    context = rendered.get("context")
    if version == "1.0.3" and isinstance(context, dict) and any(k in context for k in ONLY_2_0_CONTEXT):
        rendered = {**rendered, "context": {k: v for k, v in context.items() if k not in ONLY_2_0_CONTEXT}}
    return rendered


async def _read_statements(request: Request) -> tuple[Any, list[Attachment]]:
    """The statements of a JSON or `multipart/mixed` body, with the attachments' contents."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadRequestError(f"The body is larger than {MAX_BODY_BYTES} bytes.", field="body")
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    attachments: list[Attachment] = []
    if media_type == "multipart/mixed":
        try:
            raw, attachments = parse_statement_request(content_type, raw)
        except MultipartError as exc:
            raise BadRequestError(str(exc), field="attachments") from exc
    elif media_type != "application/json":
        raise BadRequestError("Send statements as application/json or multipart/mixed.", field="Content-Type")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"The body is not JSON: {exc}.", field="body") from exc
    if not isinstance(body, dict | list):
        raise BadRequestError("Send a statement object or a list of them.", field="body")
    return body, attachments


def _check_attachments(statements: list[dict[str, Any]], attachments: list[Attachment]) -> None:
    try:
        check_attachments(statements, attachments)
    except MultipartError as exc:
        raise BadRequestError(str(exc), field="attachments") from exc


async def _respond(
    request: Request,
    session: SessionDep,
    tenant_id: str,
    body: Any,
    rows: list[Statement],
    with_attachments: bool,
    headers: dict[str, str],
) -> Response:
    if not with_attachments:
        return _json(request, body, headers)
    hashes = sorted({a["sha2"] for row in rows for a in row.body.get("attachments", []) if "sha2" in a})
    stored = [await session.get(StatementAttachment, (tenant_id, sha2)) for sha2 in hashes]
    parts = [Attachment(s.sha2, s.content_type, s.content) for s in stored if s is not None]
    content_type, content = build_multipart(orjson.dumps(body), parts)
    return _bytes(request, content, content_type, headers)


def _json(request: Request, body: Any, headers: dict[str, str] | None = None) -> Response:
    return _bytes(request, orjson.dumps(body), "application/json", headers)


def _bytes(request: Request, content: bytes, media_type: str, headers: dict[str, str] | None) -> Response:
    """A response, with its body left off for HEAD (the headers stay, Content-Length included)."""
    response = Response(content, media_type=media_type, headers=headers)
    if request.method == "HEAD":
        response.body = b""
    return response
