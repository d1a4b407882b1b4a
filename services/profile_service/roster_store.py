"""Writing roster objects: the one path for REST upserts, the bulk endpoint and CSV imports.

Work is set-based: a batch of records is compared with what is stored (one query per chunk),
references are checked against the database and the batch, and only new or changed objects
are written (`dateLastModified` moves, an event is written to the outbox). An object that
fails a check is reported and left untouched; the others go ahead. Writing the same data
twice changes nothing: same `dateLastModified`, no events.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.outbox import add_events
from services.profile_service import events
from services.profile_service.db import outbox
from services.profile_service.models import utc_now
from services.profile_service.oneroster_kinds import KINDS, ChildList, Kind, Reference

Result = Literal["created", "updated", "unchanged", "deleted", "error"]
CHUNK = 1_000
WHOLE_TABLE_AT = 5_000
"""From this many keys on, one scan of the tenant's table beats chunked `IN` lookups."""


@dataclass
class RosterRecord:
    """One object to store: its columns and child lists, as parsed from JSON or CSV."""

    kind: str
    sourced_id: str
    values: dict[str, Any]
    status: str = "active"
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    origin: str = ""


@dataclass
class Outcome:
    """What happened to one object."""

    kind: str
    sourced_id: str
    result: Result
    origin: str = ""
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The outcome as reported to callers."""
        body: dict[str, Any] = {"type": self.kind, "sourcedId": self.sourced_id, "result": self.result}
        if self.origin:
            body["origin"] = self.origin
        if self.errors:
            body["errors"] = self.errors
        return body


def _insert(connection: AsyncConnection, table: sa.Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


async def _rows_by_key(
    connection: AsyncConnection, table: sa.Table, tenant_id: str, column: str, keys: Sequence[str]
) -> list[sa.RowMapping]:
    """Rows of `table` in the tenant whose `column` is one of `keys`."""
    if not keys:
        return []
    target = table.c[column]
    if len(keys) >= WHOLE_TABLE_AT:
        wanted = set(keys)
        rows = (await connection.execute(sa.select(table).where(table.c.tenant_id == tenant_id))).mappings()
        return [row for row in rows if row[column] in wanted]
    found: list[sa.RowMapping] = []
    for start in range(0, len(keys), CHUNK):
        query = sa.select(table).where(table.c.tenant_id == tenant_id, target.in_(keys[start : start + CHUNK]))
        found.extend((await connection.execute(query)).mappings())
    return found


async def existing_keys(connection: AsyncConnection, kind: Kind, tenant_id: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` name stored objects of `kind` (tombstones included)."""
    wanted = sorted(set(keys))
    table = kind.table
    if len(wanted) >= WHOLE_TABLE_AT:
        stored = await connection.scalars(sa.select(table.c.sourced_id).where(table.c.tenant_id == tenant_id))
        return set(wanted) & set(stored)
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        query = sa.select(table.c.sourced_id).where(
            table.c.tenant_id == tenant_id, table.c.sourced_id.in_(wanted[start : start + CHUNK])
        )
        found.update(await connection.scalars(query))
    return found


def _reference_value(record: RosterRecord, reference: Reference) -> str | None:
    if reference.column == "sourced_id":
        return record.sourced_id
    value = record.values.get(reference.column)
    return str(value) if value is not None else None


def _references_of(kind: Kind, record: RosterRecord) -> list[tuple[Reference, str]]:
    found = [(r, v) for r in kind.references if (v := _reference_value(record, r)) is not None]
    for child in kind.children:
        for entry in record.children.get(child.name, []):
            found.extend((r, str(entry[r.column])) for r in child.references if entry.get(r.column) is not None)
    return found


async def _check_references(
    connection: AsyncConnection, kind: Kind, tenant_id: str, records: list[RosterRecord], outcomes: dict[str, Outcome]
) -> list[RosterRecord]:
    """Records whose references all resolve; the others get an error outcome."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for record in records:
        for reference, value in _references_of(kind, record):
            wanted[reference.target].add(value)
    known = {
        target: await existing_keys(connection, KINDS[target], tenant_id, values) for target, values in wanted.items()
    }
    valid = records
    while True:  # a record referring to a rejected record of the same batch is rejected too
        batch_keys = {r.sourced_id for r in valid}
        kept: list[RosterRecord] = []
        for record in valid:
            missing = [
                (reference, value)
                for reference, value in _references_of(kind, record)
                if value not in known[reference.target] and not (reference.target == kind.name and value in batch_keys)
            ]
            if missing:
                outcomes[record.sourced_id] = Outcome(
                    kind.name,
                    record.sourced_id,
                    "error",
                    record.origin,
                    [{"field": r.wire_name, "message": f"No {r.target} {v!r} in this tenant."} for r, v in missing],
                )
            else:
                kept.append(record)
        if len(kept) == len(valid):
            return kept
        valid = kept


def _child_rows(child: ChildList, tenant_id: str, record: RosterRecord) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            child.parent_column: record.sourced_id,
            **{c: entry.get(c) for c in child.columns},
        }
        for entry in record.children.get(child.name, [])
    ]


def _child_key(child: ChildList, row: dict[str, Any] | sa.RowMapping) -> tuple[Any, ...]:
    return tuple(row[c] for c in child.columns)


async def apply_records(
    session: AsyncSession, tenant_id: str, kind_name: str, records: Sequence[RosterRecord], now: datetime | None = None
) -> list[Outcome]:
    """Create or update `records` (all of one kind) in the tenant; one outcome per record, in order."""
    kind = KINDS[kind_name]
    connection = await session.connection()
    outcomes: dict[str, Outcome] = {}
    unique: dict[str, RosterRecord] = {}
    duplicates: list[Outcome] = []
    for record in records:
        if record.sourced_id in unique:
            message = f"sourcedId {record.sourced_id!r} appears more than once; the first one was used."
            duplicates.append(
                Outcome(
                    kind.name, record.sourced_id, "error", record.origin, [{"field": "sourcedId", "message": message}]
                )
            )
        else:
            unique[record.sourced_id] = record
    valid = await _check_references(connection, kind, tenant_id, list(unique.values()), outcomes)
    keys = [r.sourced_id for r in valid]
    stored = {
        row["sourced_id"]: row for row in await _rows_by_key(connection, kind.table, tenant_id, "sourced_id", keys)
    }
    stored_children: dict[str, dict[str, set[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(set))
    for child in kind.children:
        for row in await _rows_by_key(connection, child.table, tenant_id, child.parent_column, keys):
            stored_children[row[child.parent_column]][child.name].add(_child_key(child, row))
    stamp = now or utc_now()
    changed: list[RosterRecord] = []
    for record in valid:
        old = stored.get(record.sourced_id)
        same = (
            old is not None
            and old["status"] == record.status
            and all(old[c] == record.values.get(c) for c in kind.columns)
        )
        same = same and all(
            stored_children[record.sourced_id][child.name]
            == {_child_key(child, row) for row in _child_rows(child, tenant_id, record)}
            for child in kind.children
        )
        result: Result = "unchanged" if same else ("updated" if old is not None else "created")
        outcomes[record.sourced_id] = Outcome(kind.name, record.sourced_id, result, record.origin)
        if not same:
            changed.append(record)
    await _write(connection, kind, tenant_id, changed, stamp)
    changes = [events.roster_changed(kind.name, tenant_id, r.sourced_id, r.status, r.values) for r in changed]
    await add_events(session, outbox, changes)
    return [outcomes[r.sourced_id] for r in unique.values()] + duplicates


async def _write(
    connection: AsyncConnection, kind: Kind, tenant_id: str, records: Sequence[RosterRecord], stamp: datetime
) -> None:
    if not records:
        return
    table = kind.table
    rows = [
        {
            "tenant_id": tenant_id,
            "sourced_id": r.sourced_id,
            "status": r.status,
            "date_last_modified": stamp,
            **{c: r.values.get(c) for c in kind.columns},
        }
        for r in records
    ]
    statement = _insert(connection, table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.tenant_id, table.c.sourced_id],
        set_={c: statement.excluded[c] for c in ("status", "date_last_modified", *kind.columns)},
    )
    for start in range(0, len(rows), CHUNK * 5):
        await connection.execute(statement, rows[start : start + CHUNK * 5])
    keys = [r.sourced_id for r in records]
    for child in kind.children:
        parent = child.table.c[child.parent_column]
        for start in range(0, len(keys), CHUNK):
            await connection.execute(
                sa.delete(child.table).where(
                    child.table.c.tenant_id == tenant_id, parent.in_(keys[start : start + CHUNK])
                )
            )
        child_rows = [row for r in records for row in _child_rows(child, tenant_id, r)]
        for start in range(0, len(child_rows), CHUNK * 5):
            await connection.execute(sa.insert(child.table), child_rows[start : start + CHUNK * 5])


async def tombstone(
    session: AsyncSession, tenant_id: str, kind_name: str, keys: Iterable[str], now: datetime | None = None
) -> list[str]:
    """Mark the tenant's objects `keys` `tobedeleted` (kept for delta readers); returns those that changed."""
    kind = KINDS[kind_name]
    table = kind.table
    wanted = sorted(set(keys))
    connection = await session.connection()
    changed: list[sa.RowMapping] = []
    for start in range(0, len(wanted), CHUNK):
        statement = (
            sa.update(table)
            .where(
                table.c.tenant_id == tenant_id,
                table.c.sourced_id.in_(wanted[start : start + CHUNK]),
                table.c.status != "tobedeleted",
            )
            .values(status="tobedeleted", date_last_modified=now or utc_now())
            .returning(*table.c)
        )
        changed.extend((await connection.execute(statement)).mappings())
    new_events = [events.roster_deleted(kind.name, tenant_id, row["sourced_id"], dict(row)) for row in changed]
    await add_events(session, outbox, new_events)
    return [row["sourced_id"] for row in changed]


async def tombstone_absent(
    session: AsyncSession, tenant_id: str, kind_name: str, present: Iterable[str], now: datetime | None = None
) -> list[str]:
    """Mark every active object of the kind that is not in `present` `tobedeleted` (bulk sync)."""
    table = KINDS[kind_name].table
    connection = await session.connection()
    active = set(
        await connection.scalars(
            sa.select(table.c.sourced_id).where(table.c.tenant_id == tenant_id, table.c.status != "tobedeleted")
        )
    )
    return await tombstone(session, tenant_id, kind_name, active - set(present), now)
