"""Use cases of the xAPI document resources (state, activity profile, agent profile) and of canonical activities.

Documents are read and written through the session's connection with SQL Core, so a write is one
compare-and-swap statement: an update only hits the row whose `etag` the request's preconditions
were checked against, and an insert only succeeds when no row appeared meanwhile. Two racing
writers therefore never both win; the loser gets 412 (when it sent a precondition) or 409.
Which preconditions a request must carry depends on the xAPI version and resource, so the routes
decide (`Conditions.refuse_blind_overwrite`) and these functions enforce.
"""

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_for
from kit.errors import AppError, BadRequestError, ConflictError
from services.progress_service.models import (
    ActivityDefinition,
    ActivityProfileDocument,
    AgentProfileDocument,
    StateDocument,
)

JSON_MEDIA_TYPE = "application/json"
DEFAULT_MEDIA_TYPE = "application/octet-stream"
_SELECT_CHUNK = 500
# PostgreSQL's btree refuses index rows over 2704 bytes; keep primary keys (UTF-8 bytes) safely below.
MAX_KEY_BYTES = 2600


class PreconditionFailedError(AppError):
    """An `If-Match` or `If-None-Match` precondition does not hold for the stored document."""

    status, code, title = 412, "precondition_failed", "Precondition failed"


@dataclass(frozen=True)
class DocumentKind:
    """One document resource: its table, the column and query parameter holding the client's document id."""

    table: sa.Table
    id_column: str
    id_param: str
    noun: str


def _table(model: type[SQLModel]) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]  # SQLModel does not declare it
    assert isinstance(table, sa.Table)
    return table


STATE = DocumentKind(_table(StateDocument), "state_id", "stateId", "state document")
ACTIVITY_PROFILE = DocumentKind(_table(ActivityProfileDocument), "profile_id", "profileId", "activity profile")
AGENT_PROFILE = DocumentKind(_table(AgentProfileDocument), "profile_id", "profileId", "agent profile")
_ACTIVITY_DEFINITION = _table(ActivityDefinition)


@dataclass(frozen=True)
class DocumentKey:
    """Where one document lives: its kind, the key columns around it (`scope`) and its id."""

    kind: DocumentKind
    scope: Mapping[str, str]
    document_id: str

    def columns(self) -> dict[str, str]:
        """Every primary key column's value."""
        return {**self.scope, self.kind.id_column: self.document_id}


@dataclass(frozen=True)
class Document:
    """A stored document as the routes return it."""

    content: bytes
    content_type: str
    etag: str
    updated_at: datetime


@dataclass(frozen=True)
class Conditions:
    """A write request's concurrency headers, and whether overwriting without either is refused (409)."""

    if_match: str | None = None
    if_none_match: str | None = None
    refuse_blind_overwrite: bool = False

    @property
    def conditional(self) -> bool:
        """Whether the request carries a precondition."""
        return self.if_match is not None or self.if_none_match is not None


def state_scope(tenant_id: str, activity_id: str, agent_ifi: str, registration: str | None) -> dict[str, str]:
    """The state documents of an activity and agent: of one registration, or of all when `registration` is None."""
    scope = {"tenant_id": tenant_id, "activity_id": activity_id, "agent_ifi": agent_ifi}
    return scope if registration is None else scope | {"registration": registration}


def state_key(tenant_id: str, activity_id: str, agent_ifi: str, registration: str | None, state_id: str) -> DocumentKey:
    """One state document; stored without a registration it is keyed by `''`."""
    return DocumentKey(STATE, state_scope(tenant_id, activity_id, agent_ifi, registration or ""), state_id)


def activity_profile_key(tenant_id: str, activity_id: str, profile_id: str) -> DocumentKey:
    """One activity profile document."""
    return DocumentKey(ACTIVITY_PROFILE, {"tenant_id": tenant_id, "activity_id": activity_id}, profile_id)


def agent_profile_key(tenant_id: str, agent_ifi: str, profile_id: str) -> DocumentKey:
    """One agent profile document."""
    return DocumentKey(AGENT_PROFILE, {"tenant_id": tenant_id, "agent_ifi": agent_ifi}, profile_id)


def etag_of(content: bytes) -> str:
    """The quoted lowercase SHA-1 hex digest of `content` (xAPI 1.0.3 Communication 3.1 asks exactly this)."""
    return f'"{hashlib.sha1(content, usedforsecurity=False).hexdigest()}"'


def is_json_media_type(content_type: str) -> bool:
    """Whether `content_type` is `application/json`, whatever its parameters (e.g. charset)."""
    return content_type.split(";", 1)[0].strip().lower() == JSON_MEDIA_TYPE


async def get_document(session: AsyncSession, key: DocumentKey) -> Document | None:
    """The stored document at `key`, or None."""
    table = key.kind.table
    query = sa.select(table.c.content, table.c.content_type, table.c.etag, table.c.updated_at).where(
        *_matching(table, key.columns())
    )
    row = (await (await session.connection()).execute(query)).one_or_none()
    return None if row is None else Document(*row)


async def put_document(
    session: AsyncSession, key: DocumentKey, content: bytes, content_type: str | None, conditions: Conditions
) -> Document:
    """Store `content` at `key`, replacing what is there, if `conditions` allow it."""
    existing = await get_document(session, key)
    _check(key, existing, conditions)
    return await _write(session, key, existing, content, content_type or DEFAULT_MEDIA_TYPE, conditions)


async def merge_document(
    session: AsyncSession, key: DocumentKey, content: bytes, content_type: str | None, conditions: Conditions
) -> Document:
    """POST: store `content` at `key`, or merge its top-level properties into the JSON object stored there."""
    existing = await get_document(session, key)
    _check(key, existing, conditions)
    if existing is None:
        return await _write(session, key, None, content, content_type or DEFAULT_MEDIA_TYPE, conditions)
    stored = _json_object(existing.content, existing.content_type, f"The stored {key.kind.noun}")
    posted = _json_object(content, content_type or "", f"The posted {key.kind.noun}")
    merged = orjson.dumps(stored | posted)  # only top-level properties merge; nested objects are replaced whole
    return await _write(session, key, existing, merged, JSON_MEDIA_TYPE, conditions)


async def delete_document(session: AsyncSession, key: DocumentKey, conditions: Conditions) -> None:
    """Delete the document at `key` (nothing to do when absent) if `conditions` allow it."""
    existing = await get_document(session, key)
    _check(key, existing, conditions)
    if existing is None:
        return
    table = key.kind.table
    statement = sa.delete(table).where(*_matching(table, key.columns()), table.c.etag == existing.etag)
    result = await (await session.connection()).execute(statement)
    if result.rowcount != 1 and conditions.conditional:
        raise PreconditionFailedError(f"The {key.kind.noun} changed while it was being deleted.")


async def list_document_ids(
    session: AsyncSession, kind: DocumentKind, scope: Mapping[str, str], since: datetime | None = None
) -> tuple[list[str], datetime | None]:
    """The ids of the documents in `scope` (changed after `since`, when given) and when the latest changed."""
    table = kind.table
    query = sa.select(table.c[kind.id_column], table.c.updated_at).where(*_matching(table, scope))
    if since is not None:
        query = query.where(table.c.updated_at > since)
    rows = (await (await session.connection()).execute(query.order_by(table.c[kind.id_column]))).all()
    ids = list(dict.fromkeys(row[0] for row in rows))  # one id may be stored under several registrations
    return ids, max((row[1] for row in rows), default=None)


async def delete_documents(session: AsyncSession, kind: DocumentKind, scope: Mapping[str, str]) -> None:
    """Delete every document in `scope`."""
    table = kind.table
    await (await session.connection()).execute(sa.delete(table).where(*_matching(table, scope)))


def _matching(table: sa.Table, values: Mapping[str, str]) -> list[sa.ColumnElement[bool]]:
    return [table.c[name] == value for name, value in values.items()]


def _tags(header: str) -> Iterator[str]:
    """The entity tags of an `If-Match`/`If-None-Match` list, quotes kept (RFC 9110 section 13.1)."""
    for tag in header.split(","):
        tag = tag.strip()
        if tag:
            yield tag


def _matches(header: str, etag: str, *, weak: bool) -> bool:
    if header.strip() == "*":
        return True
    for tag in _tags(header):
        if tag.startswith("W/") and not weak:
            continue  # If-Match compares strongly: a weak tag never matches
        tag = tag.removeprefix("W/")
        # Some clients send the bare digest; it names the same entity, so it matches too.
        if tag == etag or f'"{tag}"' == etag:
            return True
    return False


def _check(key: DocumentKey, existing: Document | None, conditions: Conditions) -> None:
    noun = key.kind.noun
    if conditions.if_match is not None and (
        existing is None or not _matches(conditions.if_match, existing.etag, weak=False)
    ):
        problem = "does not exist" if existing is None else "has changed: its ETag is not one If-Match names"
        raise PreconditionFailedError(f"The {noun} {problem}.", header="If-Match")
    if (
        conditions.if_none_match is not None
        and existing is not None
        and _matches(conditions.if_none_match, existing.etag, weak=True)
    ):
        raise PreconditionFailedError(f"The {noun} exists already (If-None-Match).", header="If-None-Match")
    if conditions.refuse_blind_overwrite and existing is not None and not conditions.conditional:
        raise ConflictError(
            f"The {noun} exists already. Check its current state (GET it), then send its ETag in If-Match"
            " to replace it, or If-None-Match: * to create it only when absent."
        )


def _json_object(content: bytes, content_type: str, what: str) -> dict[str, Any]:
    if not is_json_media_type(content_type):
        raise BadRequestError(f"{what} is not {JSON_MEDIA_TYPE}, so the two cannot be merged.", field="Content-Type")
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise BadRequestError(f"{what} is not valid JSON: {exc}.", field="body") from exc
    if not isinstance(value, dict):
        raise BadRequestError(f"{what} is not a JSON object, so the two cannot be merged.", field="body")
    return value


async def _write(
    session: AsyncSession,
    key: DocumentKey,
    existing: Document | None,
    content: bytes,
    content_type: str,
    conditions: Conditions,
) -> Document:
    """Insert or update the row at `key`, provided it is still as `existing` says; returns what was stored."""
    if sum(len(value.encode()) for value in key.columns().values()) > MAX_KEY_BYTES:
        raise BadRequestError(
            f"The {key.kind.noun}'s identifiers together exceed {MAX_KEY_BYTES} bytes, more than can be stored.",
            field=key.kind.id_param,
        )
    document = Document(content, content_type, etag_of(content), datetime.now(UTC))
    values = {
        "content": content,
        "content_type": content_type,
        "etag": document.etag,
        "updated_at": document.updated_at,
    }
    table = key.kind.table
    connection = await session.connection()
    if existing is None:
        # RETURNING tells whether the row went in: drivers differ in what rowcount says for INSERT.
        insert = insert_for(connection, table).values(**key.columns(), **values).on_conflict_do_nothing()
        stored = (await connection.execute(insert.returning(table.c.etag))).first() is not None
    else:
        update = sa.update(table).where(*_matching(table, key.columns()), table.c.etag == existing.etag)
        stored = (await connection.execute(update.values(values))).rowcount == 1
    if not stored:  # another request wrote this document between our read and this write
        if conditions.conditional:
            raise PreconditionFailedError(f"The {key.kind.noun} changed while this request was processed.")
        raise ConflictError(f"The {key.kind.noun} changed while this request was processed; retry.")
    return document


# Canonical activities


async def get_activity(session: AsyncSession, tenant_id: str, activity_id: str) -> dict[str, Any]:
    """The Activity object for `activity_id`: with its canonical definition when one is known."""
    table = _ACTIVITY_DEFINITION
    query = sa.select(table.c.definition).where(table.c.tenant_id == tenant_id, table.c.activity_id == activity_id)
    definition = (await (await session.connection()).execute(query)).scalar_one_or_none()
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return activity


_MERGED_MAPS = frozenset({"name", "description", "extensions"})
_COMPONENT_LISTS = frozenset({"choices", "scale", "source", "target", "steps"})
# Changing these is a significant change to the activity (Data 2.4.4.1), so the first one known stays.
_SETTLED = frozenset({"interactionType", "correctResponsesPattern"})


def merge_definition(canonical: Mapping[str, Any], incoming: Mapping[str, Any]) -> dict[str, Any]:
    """`canonical` updated by a statement's definition: maps merge per key, fields are replaced, answers stay.

    Language maps and extensions gain or replace entries; `type` and `moreInfo` take the new value
    (small corrections); `interactionType`, `correctResponsesPattern` and the set of interaction
    components are kept once known, only the components' descriptions merge.
    """
    merged = dict(canonical)
    for name, value in incoming.items():
        current = merged.get(name)
        if name in _MERGED_MAPS and isinstance(current, dict) and isinstance(value, dict):
            merged[name] = current | value
        elif name in _COMPONENT_LISTS and isinstance(current, list) and isinstance(value, list):
            merged[name] = _merge_components(current, value)
        elif name not in _SETTLED or current is None:
            merged[name] = value
    return merged


def _merge_components(current: Sequence[Any], incoming: Sequence[Any]) -> list[Any]:
    descriptions = {
        item["id"]: item["description"]
        for item in incoming
        if isinstance(item, dict) and isinstance(item.get("description"), dict) and "id" in item
    }
    merged: list[Any] = []
    for item in current:
        new = descriptions.get(item.get("id")) if isinstance(item, dict) else None
        if new is not None:
            item = {**item, "description": {**item.get("description", {}), **new}}
        merged.append(item)
    return merged


async def merge_activity_definitions(
    session: AsyncSession, tenant_id: str, definitions: Mapping[str, dict[str, Any]]
) -> None:
    """Fold statements' activity definitions (by activity id) into the tenant's canonical ones.

    One SELECT of the stored definitions, then one upsert of those that changed, so a batch of
    statements costs two round trips whatever its size. Fold repeated ids of one batch with
    `merge_definition` before calling.
    """
    if not definitions:
        return
    table = _ACTIVITY_DEFINITION
    connection = await session.connection()
    ids = list(definitions)
    stored: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _SELECT_CHUNK):
        query = sa.select(table.c.activity_id, table.c.definition).where(
            table.c.tenant_id == tenant_id, table.c.activity_id.in_(ids[start : start + _SELECT_CHUNK])
        )
        stored.update((row[0], row[1]) for row in await connection.execute(query))
    now = datetime.now(UTC)
    changed = []
    for activity_id, incoming in definitions.items():
        if len(activity_id.encode()) + len(tenant_id.encode()) > MAX_KEY_BYTES:
            continue  # too long to index: the statement is kept, its activity simply has no canonical definition
        current = stored.get(activity_id)
        merged = merge_definition(current or {}, incoming)
        if merged != (current or {}):
            changed.append(
                {"tenant_id": tenant_id, "activity_id": activity_id, "definition": merged, "updated_at": now}
            )
    if not changed:
        return
    insert = insert_for(connection, table)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.tenant_id, table.c.activity_id],
        set_={"definition": insert.excluded.definition, "updated_at": insert.excluded.updated_at},
    )
    await connection.execute(upsert, changed)
