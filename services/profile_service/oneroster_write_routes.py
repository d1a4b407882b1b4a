"""Our OneRoster write extension: `PUT` and `DELETE` by sourcedId, and `POST .../bulk`.

The spec's rostering service is read-only; partners that push rosters use these, with the same
JSON binding, on the same paths. They need the roster write scope and write the caller's tenant.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status
from pydantic import ValidationError

from kit.auth import CurrentPrincipal
from kit.db import SessionDep
from kit.errors import field_path
from services.profile_service import roster_store, scopes
from services.profile_service.oneroster_errors import OneRosterError
from services.profile_service.oneroster_kinds import BASE_PATH, KINDS
from services.profile_service.oneroster_routes import IdPath, base_href, read_object, require_scopes
from services.profile_service.oneroster_schemas import WRITE_MODELS

router = APIRouter(prefix=BASE_PATH, tags=["oneroster writes"])
MAX_BULK_OBJECTS = 10_000

WRITABLE = {KINDS[name].collection: name for name in WRITE_MODELS}


def _parse(kind_name: str, data: Any, origin: str) -> roster_store.RosterRecord | roster_store.Outcome:
    """A record from one JSON object, or an error outcome naming the bad fields."""
    sourced_id = str(data.get("sourcedId", "")) if isinstance(data, dict) else ""
    try:
        record = WRITE_MODELS[kind_name].model_validate(data).to_record()
    except ValidationError as exc:
        errors = [{"field": field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return roster_store.Outcome(kind_name, sourced_id, "error", origin, errors)
    record.origin = origin
    return record


def _write_endpoint(collection: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    kind_name = WRITABLE[collection]
    kind = KINDS[kind_name]

    async def put_object(
        request: Request,
        response: Response,
        sourced_id: IdPath,
        principal: CurrentPrincipal,
        session: SessionDep,
        body: Annotated[dict[str, Any], Body(description=f'`{{"{kind_name}": {{...}}}}`, the OneRoster JSON binding.')],
    ) -> dict[str, Any]:
        require_scopes(principal, (scopes.ROSTER_WRITE,), f"Writing {collection}")
        if set(body) != {kind_name}:
            raise OneRosterError(400, "invaliddata", f'The body must be {{"{kind_name}": {{...}}}}.', "body")
        data = body[kind_name]
        if isinstance(data, dict) and data.get("sourcedId", sourced_id) != sourced_id:
            raise OneRosterError(400, "invaliddata", "sourcedId differs from the one in the path.", "sourcedId")
        if isinstance(data, dict):
            data = {**data, "sourcedId": sourced_id}
        parsed = _parse(kind_name, data, kind_name)
        if isinstance(parsed, roster_store.Outcome):
            raise _outcome_error(parsed)
        (outcome,) = await roster_store.apply_records(session, principal.tenant_id, kind_name, [parsed])
        if outcome.result == "error":
            raise _outcome_error(outcome)
        if outcome.result == "created":
            response.status_code = status.HTTP_201_CREATED
        found = await read_object(
            await session.connection(),
            kind,
            principal.tenant_id,
            [kind.table.c.sourced_id == sourced_id],
            base_href(request),
        )
        return {kind_name: found}

    async def delete_object(sourced_id: IdPath, principal: CurrentPrincipal, session: SessionDep) -> Response:
        require_scopes(principal, (scopes.ROSTER_WRITE,), f"Writing {collection}")
        connection = await session.connection()
        if not await roster_store.existing_keys(connection, kind, principal.tenant_id, [sourced_id]):
            raise OneRosterError(404, "unknownobject", f"No {kind_name} {sourced_id!r}.")
        await roster_store.tombstone(session, principal.tenant_id, kind_name, [sourced_id])
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    return put_object, delete_object


def _outcome_error(outcome: roster_store.Outcome) -> OneRosterError:
    first = outcome.errors[0]
    error = OneRosterError(400, "invaliddata", "; ".join(f"{e['field']}: {e['message']}" for e in outcome.errors))
    error.extra = {"field": first["field"], "errors": outcome.errors}
    return error


for _collection in WRITABLE:
    _put, _delete = _write_endpoint(_collection)
    router.add_api_route(
        f"/{_collection}/{{sourced_id}}", _put, methods=["PUT"], summary=f"Create or replace one of {_collection}"
    )
    router.add_api_route(
        f"/{_collection}/{{sourced_id}}",
        _delete,
        methods=["DELETE"],
        status_code=status.HTTP_204_NO_CONTENT,
        summary=f"Mark one of {_collection} tobedeleted",
        response_class=Response,
    )


@router.post("/bulk", summary="Create or replace many objects of several kinds in one request")
async def bulk_write(
    principal: CurrentPrincipal,
    session: SessionDep,
    body: Annotated[
        dict[str, list[Any]],
        Body(description="Lists by collection name (`orgs`, `academicSessions`, `courses`, `classes`, ...)."),
    ],
) -> dict[str, Any]:
    """Apply every object; each is checked and reported on its own (`results`), dependencies first."""
    require_scopes(principal, (scopes.ROSTER_WRITE,), "Writing the roster")
    unknown = sorted(set(body) - set(WRITABLE))
    if unknown:
        raise OneRosterError(400, "invaliddata", f"Unknown collection(s): {', '.join(unknown)}.", unknown[0])
    if sum(len(items) for items in body.values()) > MAX_BULK_OBJECTS:
        raise OneRosterError(
            400, "invaliddata", f"At most {MAX_BULK_OBJECTS} objects per request; use a CSV import for more.", "body"
        )
    results: list[roster_store.Outcome] = []
    for kind_name, kind in KINDS.items():
        items = body.get(kind.collection, [])
        parsed = [_parse(kind_name, item, f"{kind.collection}[{i}]") for i, item in enumerate(items)]
        results.extend(p for p in parsed if isinstance(p, roster_store.Outcome))
        records = [p for p in parsed if isinstance(p, roster_store.RosterRecord)]
        results.extend(await roster_store.apply_records(session, principal.tenant_id, kind_name, records))
    counts: dict[str, int] = {}
    for outcome in results:
        counts[outcome.result] = counts.get(outcome.result, 0) + 1
    return {"counts": counts, "results": [o.to_json() for o in results]}
