"""Writing roster objects: the one path for REST upserts, the bulk endpoint and CSV imports.

Work is set-based: a batch of records is compared with what is stored (one query per chunk),
references are checked against the database and the batch, and only new or changed objects
are written (`dateLastModified` moves, an event is written to the outbox). An object that
fails a check is reported and left untouched; the others go ahead. Writing the same data
twice changes nothing: same `dateLastModified`, no events.
"""

import asyncio
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from psycopg.errors import UniqueViolation
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import COPY_AT, copy_rows, insert_for
from kit.key_conditions import among, is_postgresql
from kit.outbox import Event, add_events
from services.profile_service import events
from services.profile_service.db import outbox
from services.profile_service.models import utc_now
from services.profile_service.oneroster_kinds import KINDS, ChildList, Kind, Reference

Result = Literal["created", "updated", "unchanged", "deleted", "error"]
CHUNK = 1_000
WHOLE_TABLE_AT = 5_000
"""From this many keys on, one scan of the tenant's table beats chunked `IN` lookups (SQLite)."""
ANALYZE_AT = 500
"""On PostgreSQL, a table is analyzed after taking at least this many rows (see `_analyze_if_grown`)."""


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


async def _rows_by_key(
    connection: AsyncConnection, table: sa.Table, tenant_id: str, column: str, keys: Sequence[str]
) -> list[sa.RowMapping]:
    """Rows of `table` in the tenant whose `column` is one of `keys`."""
    if not keys:
        return []
    if not is_postgresql(connection) and len(keys) >= WHOLE_TABLE_AT:
        wanted = set(keys)
        rows = (await connection.execute(sa.select(table).where(table.c.tenant_id == tenant_id))).mappings()
        return [row for row in rows if row[column] in wanted]
    found: list[sa.RowMapping] = []
    for matching in among(connection, table.c[column], keys):
        query = sa.select(table).where(table.c.tenant_id == tenant_id, matching)
        found.extend((await connection.execute(query)).mappings())
    return found


async def existing_keys(connection: AsyncConnection, kind: Kind, tenant_id: str, keys: Iterable[str]) -> set[str]:
    """Which of `keys` name stored objects of `kind` (tombstones included)."""
    wanted = sorted(set(keys))
    table = kind.table
    if not is_postgresql(connection) and len(wanted) >= WHOLE_TABLE_AT:
        stored = await connection.scalars(sa.select(table.c.sourced_id).where(table.c.tenant_id == tenant_id))
        return set(wanted) & set(stored)
    found: set[str] = set()
    for matching in among(connection, table.c.sourced_id, wanted):
        query = sa.select(table.c.sourced_id).where(table.c.tenant_id == tenant_id, matching)
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


def _wanted_keys(kind: Kind, records: Sequence[RosterRecord]) -> dict[str, set[str]]:
    """Every key `records` refer to, by target kind (set-based: this runs for every imported row)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for reference in kind.references:
        column = reference.column
        if column == "sourced_id":
            wanted[reference.target].update(r.sourced_id for r in records)
        else:
            values = (r.values.get(column) for r in records)
            wanted[reference.target].update(str(v) for v in values if v is not None)
    for child in kind.children:
        entries = [e for r in records for e in r.children.get(child.name, ())]
        for reference in child.references:
            column = reference.column
            wanted[reference.target].update(str(e[column]) for e in entries if e.get(column) is not None)
    return wanted


async def _check_references(
    connection: AsyncConnection, kind: Kind, tenant_id: str, records: list[RosterRecord], outcomes: dict[str, Outcome]
) -> list[RosterRecord]:
    """Records whose references all resolve; the others get an error outcome."""
    wanted = _wanted_keys(kind, records)
    known = {
        target: await existing_keys(connection, KINDS[target], tenant_id, values) for target, values in wanted.items()
    }
    batch = {r.sourced_id for r in records}
    if all(
        values <= known[target] or (target == kind.name and values <= known[target] | batch)
        for target, values in wanted.items()
    ):
        return records
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
    own = kind.columns
    changed: list[RosterRecord] = []
    for record in valid:
        old = stored.get(record.sourced_id)
        same = old is not None and old["status"] == record.status and all(old[c] == record.values.get(c) for c in own)
        same = same and all(
            stored_children[record.sourced_id][child.name]
            == {_child_key(child, row) for row in _child_rows(child, tenant_id, record)}
            for child in kind.children
        )
        result: Result = "unchanged" if same else ("updated" if old is not None else "created")
        outcomes[record.sourced_id] = Outcome(kind.name, record.sourced_id, result, record.origin)
        if not same:
            changed.append(record)
    if len(changed) < COPY_AT:
        await _write(connection, kind, tenant_id, changed, stamp, stored)
        await add_events(session, outbox, _events_of(kind, tenant_id, changed))
    else:  # many: build the events in a worker thread while the database takes the rows
        building = asyncio.ensure_future(asyncio.to_thread(_events_of, kind, tenant_id, changed))
        try:
            await _write(connection, kind, tenant_id, changed, stamp, stored)
        finally:
            changes = await building
        await add_events(session, outbox, changes)
    return [outcomes[r.sourced_id] for r in unique.values()] + duplicates


def _parents_first(kind: Kind, records: Sequence[RosterRecord]) -> Sequence[RosterRecord]:
    """`records` with each one after the record of the batch it names as its parent (row-by-row foreign keys)."""
    columns = [r.column for r in kind.references if r.target == kind.name and r.column != "sourced_id"]
    if not columns:
        return records
    batch = {r.sourced_id: r for r in records}
    ordered: list[RosterRecord] = []
    placed: set[str] = set()
    for record in records:
        chain: list[RosterRecord] = []
        current: RosterRecord | None = record
        while current is not None and current.sourced_id not in placed and all(current is not c for c in chain):
            chain.append(current)
            parent = next((current.values[c] for c in columns if current.values.get(c)), None)
            current = batch.get(parent) if parent is not None else None
        for ancestor in reversed(chain):
            ordered.append(ancestor)
            placed.add(ancestor.sourced_id)
    return ordered


def _events_of(kind: Kind, tenant_id: str, records: Sequence[RosterRecord]) -> list[Event]:
    return [events.roster_changed(kind.name, tenant_id, r.sourced_id, r.status, r.values) for r in records]


async def _write(
    connection: AsyncConnection,
    kind: Kind,
    tenant_id: str,
    records: Sequence[RosterRecord],
    stamp: datetime,
    stored: Collection[str],
) -> None:
    """Upsert `records` and replace their child lists; `stored` holds the keys that were found in the table."""
    if not records:
        return
    records = _parents_first(kind, records)
    table = kind.table
    own = kind.columns
    columns = ("tenant_id", "sourced_id", "status", "date_last_modified", *own)
    rows = [(tenant_id, r.sourced_id, r.status, stamp, *map(r.values.get, own)) for r in records]
    copying = is_postgresql(connection) and len(rows) >= COPY_AT
    replaced = [r.sourced_id for r in records]
    if copying:
        new = [r.sourced_id not in stored for r in records]
        created = [row for row, fresh in zip(rows, new, strict=True) if fresh]
        updated = [row for row, fresh in zip(rows, new, strict=True) if not fresh]
        if created and not await _insert_by_copy(connection, table, columns, created):
            updated, new = rows, [False] * len(rows)  # another writer created some meanwhile: upsert them all
        if updated:
            await _upsert_by_copy(connection, table, columns, updated)
        replaced = [r.sourced_id for r, fresh in zip(records, new, strict=True) if not fresh]  # new ones have none
    else:
        statement = insert_for(connection, table)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.sourced_id],
            set_={c: statement.excluded[c] for c in columns[2:]},
        )
        for start in range(0, len(rows), CHUNK * 5):
            await connection.execute(
                statement, [dict(zip(columns, row, strict=True)) for row in rows[start : start + CHUNK * 5]]
            )
    await _analyze_if_grown(connection, table, len(rows))
    for child in kind.children:
        await _delete_children(connection, child, tenant_id, replaced)
        child_rows = [row for r in records for row in _child_rows(child, tenant_id, r)]
        if copying:
            child_columns = ("tenant_id", child.parent_column, *child.columns)
            await copy_rows(connection, child.table, child_columns, (tuple(row.values()) for row in child_rows))
        else:
            for start in range(0, len(child_rows), CHUNK * 5):
                await connection.execute(sa.insert(child.table), child_rows[start : start + CHUNK * 5])
        await _analyze_if_grown(connection, child.table, len(child_rows))


async def _delete_children(connection: AsyncConnection, child: ChildList, tenant_id: str, keys: Sequence[str]) -> None:
    """Remove the child rows of the parents `keys`."""
    for matching in among(connection, child.table.c[child.parent_column], keys):
        await connection.execute(sa.delete(child.table).where(child.table.c.tenant_id == tenant_id, matching))


async def _analyze_if_grown(connection: AsyncConnection, table: sa.Table, written: int) -> None:
    """On PostgreSQL, `ANALYZE` a table once rows written to it since its last statistics reach half of them.

    Key lookups and foreign-key checks are planned from statistics; a table filled by this (long)
    transaction has none, and the planner then scans the tenant's rows for every key it checks.
    """
    if not is_postgresql(connection) or not written:
        return
    tables: dict[str, tuple[int, float | None]] = connection.info.setdefault("plp_rows_since_analyze", {})
    since, size = tables.get(table.name, (0, None))
    since += written
    if since >= ANALYZE_AT and (size is None or since >= size / 2):
        reltuples = await connection.scalar(
            sa.text("SELECT reltuples FROM pg_class WHERE oid = CAST(:name AS regclass)"), {"name": table.name}
        )
        size = max(float(reltuples or 0), 0.0)  # -1: never analyzed
        if since >= size / 2:
            await connection.execute(sa.text(f"ANALYZE {table.name}"))
            since, size = 0, None
    tables[table.name] = (since, size)


async def _insert_by_copy(
    connection: AsyncConnection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> bool:
    """`COPY` new `rows` straight into `table`; False (and nothing written) if one exists already after all."""
    try:
        async with connection.begin_nested():
            await copy_rows(connection, table, columns, rows)
    except UniqueViolation:
        return False
    return True


async def _upsert_by_copy(
    connection: AsyncConnection, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert or update `rows` through a temporary staging table: `COPY` in, then one `INSERT ... SELECT`."""
    stage = f"stage_{table.name}"
    await connection.execute(
        sa.text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
    )
    await connection.execute(sa.text(f"TRUNCATE {stage}"))
    await copy_rows(connection, table, columns, rows, into=stage)
    staged = sa.table(stage, *[sa.column(table.c[c].name) for c in columns])
    statement = postgresql.insert(table).from_select([table.c[c] for c in columns], sa.select(*staged.c))
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.tenant_id, table.c.sourced_id],
        set_={c: statement.excluded[c] for c in columns[2:]},
    )
    await connection.execute(statement)


async def tombstone(
    session: AsyncSession, tenant_id: str, kind_name: str, keys: Iterable[str], now: datetime | None = None
) -> list[str]:
    """Mark the tenant's objects `keys` `tobedeleted` (kept for delta readers); returns those that changed."""
    kind = KINDS[kind_name]
    table = kind.table
    wanted = sorted(set(keys))
    connection = await session.connection()
    changed: list[sa.RowMapping] = []
    for matching in among(connection, table.c.sourced_id, wanted):
        statement = (
            sa.update(table)
            .where(table.c.tenant_id == tenant_id, matching, table.c.status != "tobedeleted")
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
