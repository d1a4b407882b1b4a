"""Use cases of the progress service."""

import uuid
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import insert_if_absent
from kit.errors import BadRequestError, ConflictError
from kit.outbox import Event, add_events
from services.progress_service import bkt
from services.progress_service.access import check_may_write_for
from services.progress_service.db import outbox
from services.progress_service.models import Mastery, Statement
from services.progress_service.schemas import StatementIn

DEFAULT_PARAMS = bkt.BktParams()


def learner_of(statement: StatementIn) -> str | None:
    """The roster learner a statement is about (account name = sourcedId)."""
    return statement.actor.account.name if statement.actor.account else None


async def record_statements(session: AsyncSession, principal: Principal, statements: list[StatementIn]) -> list[str]:
    """Store a batch atomically, update mastery from it, and return the statement ids."""
    ids = [str(s.id or uuid.uuid4()) for s in statements]
    if len(set(ids)) != len(ids):
        raise BadRequestError("A batch may not repeat a statement id.", field="id")
    for statement in statements:
        check_may_write_for(principal, learner_of(statement))
    existing = await session.exec(
        select(Statement.id).where(col(Statement.tenant_id) == principal.tenant_id, col(Statement.id).in_(ids))
    )
    clashes = sorted(existing)
    if clashes:
        raise ConflictError(f"Statements exist already: {', '.join(clashes)}.", field="id")
    try:
        await _store(session, principal.tenant_id, dict(zip(ids, statements, strict=True)))
    except IntegrityError as exc:  # a concurrent request stored one of these ids first
        raise ConflictError("Statements with these ids were stored meanwhile.", field="id") from exc
    return ids


async def _store(session: AsyncSession, tenant_id: str, statements: dict[str, StatementIn]) -> None:
    """Add the statements (keyed by id), their mastery updates and their events to the session."""
    stored = datetime.now(UTC)
    events: list[Event] = []
    for statement_id, statement in statements.items():
        body = statement.model_dump(mode="json", by_alias=True, exclude_none=True) | {"id": statement_id}
        row = Statement(
            tenant_id=tenant_id,
            id=statement_id,
            learner_id=learner_of(statement),
            verb_id=str(statement.verb.id),
            object_id=str(statement.object.id),
            success=statement.result.success if statement.result else None,
            score_scaled=statement.result.score.scaled if statement.result and statement.result.score else None,
            timestamp=statement.timestamp or stored,
            stored=stored,
            body=body,
        )
        session.add(row)
        events.append(Event("progress.statement.recorded", tenant_id, row.learner_id or "", {"statementId": row.id}))
        events.extend(await _update_mastery(session, tenant_id, statement, row.timestamp))
    await add_events(session, outbox, events)
    await session.flush()


async def _update_mastery(session: AsyncSession, tenant_id: str, statement: StatementIn, at: datetime) -> list[Event]:
    learner_id = learner_of(statement)
    correct = statement.correctness()
    if learner_id is None or correct is None:
        return []
    events = []
    for competency_id in statement.competency_ids():
        mastery = await _locked_mastery(session, tenant_id, learner_id, competency_id, at)
        old = mastery.estimate
        mastery.estimate = bkt.update(old, correct, DEFAULT_PARAMS)
        mastery.evidence_count += 1
        mastery.status = bkt.status_of(mastery.estimate, mastery.evidence_count)
        mastery.last_evidence_at = max(mastery.last_evidence_at, at)
        events.append(
            Event(
                "mastery.updated",
                tenant_id,
                learner_id,
                {"competencyId": competency_id, "old": old, "new": mastery.estimate, "status": mastery.status},
            )
        )
    return events


async def _locked_mastery(
    session: AsyncSession, tenant_id: str, learner_id: str, competency_id: str, at: datetime
) -> Mastery:
    """The learner's estimate for the competency, created at the prior if new, locked until commit.

    Concurrent statements about one learner and competency then update it one after the other
    (PostgreSQL row lock; SQLite has one writer at a time) instead of losing an update.
    """
    key = {"tenant_id": tenant_id, "learner_id": learner_id, "competency_id": competency_id}
    prior = {"estimate": DEFAULT_PARAMS.prior, "evidence_count": 0, "status": "not_started", "last_evidence_at": at}
    await insert_if_absent(session, Mastery, key | prior)
    query = select(Mastery).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    return (await session.exec(query)).one()


async def list_mastery(session: AsyncSession, tenant_id: str, learner_id: str) -> list[Mastery]:
    """Every mastery estimate of one learner (access is checked by the caller)."""
    rows = await session.exec(
        select(Mastery)
        .where(col(Mastery.tenant_id) == tenant_id, col(Mastery.learner_id) == learner_id)
        .order_by(col(Mastery.competency_id))
    )
    return list(rows)
