"""CSV import jobs: a OneRoster CSV zip applied to one tenant, tracked in `import_job`.

`start_import` checks the zip (refusing, with `RosterFileError`, one that is not OneRoster) and
records a queued job; `run_import` applies it. Kinds go in dependency order (`KINDS`) through
`roster_store`, in chunks, all in ONE transaction: a crash writes nothing. A `bulk` file makes the
tenant's objects of its kind equal to the file (the others become `tobedeleted` once the file's
rows are in); a `delta` file upserts its rows and tombstones those marked `tobedeleted`; an
`absent` file changes nothing. A bad row is reported (file, line, field, reason) and skipped.
The job row is written through a separate session, so readers see progress meanwhile (on
PostgreSQL; SQLite has a single writer, so there the job moves at its start and end only).
"""

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import aclosing, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from kit.db import table_of
from services.profile_service import roster_store
from services.profile_service.models import ImportJob, utc_now
from services.profile_service.oneroster_csv import (
    FILE_OF_KIND,
    FILES,
    RejectedRow,
    RosterFileError,
    RosterZip,
    RowError,
    csv_column,
    open_roster,
)
from services.profile_service.oneroster_kinds import KINDS, Kind
from services.profile_service.roster_store import RosterRecord

logger = logging.getLogger(__name__)
CHUNK = 20_000
PREFETCH = 2
"""Chunks parsed ahead of the one being written."""
MAX_REPORTED_ERRORS = 1_000
PROGRESS_EVERY_SECONDS = 1.0
OUTCOMES = ("created", "updated", "unchanged", "deleted", "error")
JOB = table_of(ImportJob)
ProgressCallback = Callable[[float], None]
Item = RosterRecord | RejectedRow


def _own_references(kind: Kind) -> list[tuple[str | None, str]]:
    """Where objects of `kind` name others of the same kind: (child list or None, column)."""
    found: list[tuple[str | None, str]] = [(None, r.column) for r in kind.references if r.target == kind.name]
    for child in kind.children:
        found.extend((child.name, r.column) for r in child.references if r.target == kind.name)
    return found


OWN_REFERENCES = {name: _own_references(kind) for name, kind in KINDS.items()}
"""Org parents, session parents, user agents: references a file may make to its own later rows."""


def jobs_of_tenant(tenant_id: str) -> SelectOfScalar[ImportJob]:
    """The tenant's import jobs, newest first: the one place their tenancy is written."""
    newest = (col(ImportJob.created_at).desc(), col(ImportJob.id).desc())
    return select(ImportJob).where(ImportJob.tenant_id == tenant_id).order_by(*newest)


def file_counts(job: ImportJob) -> dict[str, dict[str, Any]]:
    """The job's counts by file, in import order (the database may keep JSON keys in another)."""
    files: dict[str, dict[str, Any]] = job.counts.get("files", {})
    order = [spec.filename for spec in FILES.values()]
    return {name: files[name] for name in sorted(files, key=lambda n: order.index(n) if n in order else len(order))}


def empty_counts(roster: RosterZip) -> dict[str, Any]:
    """The job's `counts` before any row is read: each imported file with its mode, and the files not imported."""
    files = {
        spec.filename: {"mode": roster.mode(name), "rows": 0, **dict.fromkeys(OUTCOMES, 0)}
        for name, spec in FILES.items()
        if roster.mode(name) != "absent"
    }
    return {"files": files, "notImported": list(roster.manifest.not_imported)}


async def start_import(
    session: AsyncSession,
    tenant_id: str,
    path: Path,
    *,
    filename: str,
    created_by: str,
    job_id: str | None = None,
) -> ImportJob:
    """Check the zip at `path` and record a queued job; a zip that is not OneRoster raises `RosterFileError`."""
    roster = await asyncio.to_thread(open_roster, path)
    with roster:
        counts = empty_counts(roster)
    job = ImportJob(
        id=job_id or str(uuid.uuid4()),
        tenant_id=tenant_id,
        filename=filename[:255],
        created_by=created_by[:255],
        counts=counts,
    )
    session.add(job)
    await session.flush()
    return job


@dataclass
class _Tally:
    """What the job reports, kept up to date as rows go by."""

    counts: dict[str, Any]
    rows_total: int = 0
    rows_done: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0

    def file(self, name: str) -> dict[str, Any]:
        counts: dict[str, Any] = self.counts["files"][name]
        return counts

    def add(self, filename: str, outcome: str, number: int = 1) -> None:
        self.file(filename)[outcome] += number

    def report(self, errors: list[RowError]) -> None:
        self.error_count += len(errors)
        room = MAX_REPORTED_ERRORS - len(self.errors)
        self.errors.extend(e.to_json() for e in errors[: max(room, 0)])

    def reject(self, row: RejectedRow) -> None:
        self.add(row.file, "error")
        self.report(list(row.errors))

    @property
    def progress(self) -> float:
        return min(self.rows_done / self.rows_total, 0.99) if self.rows_total else 0.0

    def values(self) -> dict[str, Any]:
        return {
            "progress": self.progress,
            "counts": self.counts,
            "errors": self.errors,
            "error_count": self.error_count,
        }


class _Reporter:
    """Publishes progress: to the caller's callback, and (throttled) to the job row through its own session."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        job_id: str,
        tally: _Tally,
        on_progress: ProgressCallback | None,
        write_job: bool,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.job_id = job_id
        self.tally = tally
        self.on_progress = on_progress
        self.write_job = write_job
        self.written_at = time.monotonic()

    async def __call__(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.tally.progress)
        if self.write_job and time.monotonic() - self.written_at >= PROGRESS_EVERY_SECONDS:
            await _update_job(self.sessionmaker, self.job_id, **self.tally.values())
            self.written_at = time.monotonic()


async def _update_job(sessionmaker: async_sessionmaker[AsyncSession], job_id: str, **values: Any) -> None:
    """Write `values` to the job row in a transaction of its own."""
    async with sessionmaker() as side, side.begin():
        await (await side.connection()).execute(sa.update(JOB).where(JOB.c.id == job_id).values(**values))


def _take(items: Iterator[Item], size: int) -> list[Item]:
    """The next `size` items (fewer at the end)."""
    return list(itertools.islice(items, size))


class _FileImport:
    """One kind's file going into the tenant: its rows checked for repeats, applied, counted."""

    def __init__(self, session: AsyncSession, tenant_id: str, kind: str, mode: str, tally: _Tally) -> None:
        self.session = session
        self.tenant_id = tenant_id
        self.kind = kind
        self.filename = FILE_OF_KIND[kind].filename
        self.mode = mode
        self.tally = tally
        self.seen: set[str] = set()
        self.kept: set[str] = set()
        """sourcedIds the file keeps (valid or not): a bulk file tombstones every other object."""
        self.applied: set[str] = set()
        self.deferred: list[RosterRecord] = []
        """Records naming objects of their kind that come later in the file: applied together at the end."""

    def _named(self, record: RosterRecord) -> Iterator[str]:
        """The keys of same-kind objects `record` refers to."""
        for child, column in OWN_REFERENCES[self.kind]:
            entries = [record.values] if child is None else record.children.get(child, [])
            yield from (str(e[column]) for e in entries if e.get(column) is not None)

    def _ready(self, records: list[RosterRecord]) -> list[RosterRecord]:
        """The records whose same-kind references are already applied or in `records`; the others are deferred."""
        if not OWN_REFERENCES[self.kind]:
            return records
        ready = records
        while True:
            known = {r.sourced_id for r in ready}
            still = [r for r in ready if all(k in self.applied or k in known for k in self._named(r))]
            if len(still) == len(ready):
                break
            ready = still
        if len(ready) < len(records):
            kept = {r.sourced_id for r in ready}
            self.deferred.extend(r for r in records if r.sourced_id not in kept)
        return ready

    async def _upsert(self, records: list[RosterRecord]) -> None:
        outcomes = await roster_store.apply_records(self.session, self.tenant_id, self.kind, records)
        self.applied.update(r.sourced_id for r in records)
        for outcome in outcomes:
            self.tally.add(self.filename, outcome.result)
            if outcome.result == "error":
                file, _, line = outcome.origin.rpartition(":")
                self.tally.report(
                    [RowError(file, int(line), csv_column(self.kind, e["field"]), e["message"]) for e in outcome.errors]
                )

    async def apply(self, batch: list[Item]) -> None:
        """Apply one batch of the file's rows."""
        upserts: list[RosterRecord] = []
        deletions: list[RosterRecord] = []
        for item in batch:
            if isinstance(item, RejectedRow):
                if item.file == self.filename:
                    self.tally.file(self.filename)["rows"] += 1
                    if item.sourced_id:
                        self.kept.add(item.sourced_id)
                self.tally.reject(item)
                continue
            self.tally.file(self.filename)["rows"] += 1
            if item.sourced_id in self.seen:
                file, _, line = item.origin.rpartition(":")
                reason = "this sourcedId appears earlier in the file; only the first row was used"
                self.tally.reject(
                    RejectedRow(file, int(line), item.sourced_id, (RowError(file, int(line), "sourcedId", reason),))
                )
                continue
            self.seen.add(item.sourced_id)
            if item.status == "tobedeleted":
                deletions.append(item)
            else:
                self.kept.add(item.sourced_id)
                upserts.append(item)
        ready = self._ready(upserts)
        if ready:
            await self._upsert(ready)
        if deletions:
            changed = await roster_store.tombstone(
                self.session, self.tenant_id, self.kind, [d.sourced_id for d in deletions]
            )
            self.tally.add(self.filename, "deleted", len(changed))
            self.tally.add(self.filename, "unchanged", len(deletions) - len(changed))
        self.tally.rows_done += len(batch)

    async def finish(self) -> None:
        """After the last batch: apply the deferred records; in bulk mode, tombstone the objects the file left out."""
        if self.deferred:
            await self._upsert(self.deferred)
        if self.mode == "bulk":
            gone = await roster_store.tombstone_absent(self.session, self.tenant_id, self.kind, self.kept)
            self.tally.add(self.filename, "deleted", len(gone))


async def _chunks(items: Iterator[Item], size: int) -> AsyncGenerator[list[Item], None]:
    """Chunks of `items`, parsed in a worker thread up to `PREFETCH` chunks ahead of their use."""
    queue: asyncio.Queue[list[Item] | Exception] = asyncio.Queue(PREFETCH)

    async def produce() -> None:
        try:
            while batch := await asyncio.to_thread(_take, items, size):
                await queue.put(batch)
            await queue.put([])
        except Exception as exc:
            await queue.put(exc)

    producer = asyncio.create_task(produce())
    try:
        while batch := await queue.get():
            if isinstance(batch, Exception):
                raise batch
            yield batch
    finally:
        producer.cancel()
        with suppress(asyncio.CancelledError):
            await producer


async def _apply_kind(
    session: AsyncSession, tenant_id: str, roster: RosterZip, kind: str, tally: _Tally, report: _Reporter
) -> None:
    """Apply `kind`'s file, chunk by chunk, while the next chunks are parsed."""
    mode = roster.mode(FILE_OF_KIND[kind].name)
    if mode == "absent":
        return
    file_import = _FileImport(session, tenant_id, kind, mode, tally)
    async with aclosing(_chunks(roster.read(kind), CHUNK)) as chunks:
        async for batch in chunks:
            await file_import.apply(batch)
            await report()
    await file_import.finish()


async def _lock_tenant(session: AsyncSession, tenant_id: str) -> None:
    """On PostgreSQL, wait for other imports into the tenant (any replica) to finish first."""
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        key = sa.func.hashtextextended(f"plp.roster_import:{tenant_id}", 0)
        await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


async def _import(session: AsyncSession, tenant_id: str, path: Path, tally: _Tally, report: _Reporter) -> None:
    roster = await asyncio.to_thread(open_roster, path)
    with roster:
        tally.counts = empty_counts(roster)
        counted = await asyncio.to_thread(lambda: {name: roster.count_rows(name) for name in FILES})
        tally.rows_total = sum(counted.values())
        if "roles.csv" in tally.counts["files"]:
            tally.file("roles.csv")["rows"] = counted["roles"]
            tally.rows_done += counted["roles"]
        for kind in KINDS:
            await _apply_kind(session, tenant_id, roster, kind, tally, report)


async def run_import(
    sessionmaker: async_sessionmaker[AsyncSession],
    job_id: str,
    path: Path,
    on_progress: ProgressCallback | None = None,
) -> ImportJob:
    """Run the queued job `job_id` on the zip at `path`; returns the finished job (`succeeded` or `failed`).

    Row errors are reported in the job and do not fail it; any other failure rolls every roster
    write back and leaves the job `failed` with a `detail`. `on_progress` gets 0..1 as rows go by.
    """
    async with sessionmaker() as side, side.begin():
        job = await side.get(ImportJob, job_id)
        if job is None:
            raise LookupError(f"no import job {job_id!r}")
        tenant_id = job.tenant_id
        job.state, job.started_at = "running", utc_now()
        write_job = (await side.connection()).dialect.name != "sqlite"
    tally = _Tally(counts=dict(job.counts))
    report = _Reporter(sessionmaker, job_id, tally, on_progress, write_job)
    try:
        async with sessionmaker() as session, session.begin():
            await _lock_tenant(session, tenant_id)
            await _import(session, tenant_id, path, tally, report)
            finished = {**tally.values(), "progress": 1.0, "state": "succeeded", "finished_at": utc_now()}
            await (await session.connection()).execute(sa.update(JOB).where(JOB.c.id == job_id).values(**finished))
    except Exception as exc:
        logger.exception("import job %s failed", job_id)
        detail = (
            str(exc)
            if isinstance(exc, RosterFileError)
            else f"the import stopped on {exc.__class__.__name__}; the service log has the details."
        )
        written = ("created", "updated", "unchanged", "deleted")  # rolled back: none of it happened
        files = {name: {**c, **dict.fromkeys(written, 0)} for name, c in tally.counts.get("files", {}).items()}
        tally.counts = {**tally.counts, "files": files}
        await _update_job(
            sessionmaker,
            job_id,
            **tally.values(),
            state="failed",
            finished_at=utc_now(),
            detail=f"Nothing was imported: {detail}"[:2000],
        )
    if on_progress is not None:
        on_progress(1.0)
    async with sessionmaker() as side:
        done = await side.get(ImportJob, job_id)
        assert done is not None
        return done
