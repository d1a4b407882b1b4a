"""Mastery updates in the statement's transaction: one estimate per learner x competency, its history and events.

Rows are created at `not_started`, then locked in key order (PostgreSQL `FOR UPDATE`; SQLite has one
writer at a time), so concurrent batches about the same learner apply one after the other and
never lose an update. Each change is kept in `mastery_change` and announced as `mastery.updated`.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import insert_rows, table_of
from kit.outbox import Event
from services.progress_service import mastery_model, mastery_store
from services.progress_service.evidence import Evidence
from services.progress_service.mastery_store import Estimate
from services.progress_service.models import MasteryChange


@dataclass(frozen=True, slots=True)
class Observation:
    """One statement's evidence about one learner."""

    learner_id: str
    statement_id: str
    evidence: Evidence
    at: datetime


async def record_observations(
    session: AsyncSession, tenant_id: str, observations: Sequence[Observation]
) -> list[Event]:
    """Move the estimates the observations bear on; returns their `mastery.updated` events."""
    scored = [o for o in observations if o.evidence.correct is not None and o.evidence.competencies]
    if not scored:
        return []
    frameworks = {(o.learner_id, c): o.evidence.framework_id or "*" for o in scored for c in o.evidence.competencies}
    connection = await session.connection()
    rows = await mastery_store.lock_estimates(connection, tenant_id, frameworks)
    models = await mastery_model.models_for(session, tenant_id, {c for _, c in frameworks})
    changes: list[dict[str, Any]] = []
    events: list[Event] = []
    for observation in scored:
        for competency_id in observation.evidence.competencies:
            row = rows[(observation.learner_id, competency_id)]
            old = row.estimate
            assert observation.evidence.correct is not None
            expected = models.apply(row, observation.evidence.correct, observation.evidence.score, observation.at)
            changes.append(_change(tenant_id, row, observation, old, expected))
            events.append(_event(tenant_id, row, old, observation.statement_id))
    await mastery_store.write_estimates(connection, tenant_id, list(rows.values()))
    await insert_rows(session, table_of(MasteryChange), changes)
    return events


async def forget_statements(session: AsyncSession, tenant_id: str, statement_ids: Iterable[str]) -> list[Event]:
    """Replay the estimates that voided statements moved, without them; returns the resulting events."""
    voided = list(statement_ids)
    found = await session.exec(
        select(MasteryChange.learner_id, MasteryChange.competency_id)
        .where(col(MasteryChange.tenant_id) == tenant_id, col(MasteryChange.statement_id).in_(voided))
        .distinct()
    )
    keys = sorted(set(found))
    if not keys:
        return []
    connection = await session.connection()
    changes: sa.Table = table_of(MasteryChange)
    await connection.execute(
        sa.delete(changes).where(changes.c.tenant_id == tenant_id, changes.c.statement_id.in_(voided))
    )
    rows = await mastery_store.lock_estimates(connection, tenant_id, dict.fromkeys(keys, "*"))
    models = await mastery_model.models_for(session, tenant_id, {c for _, c in keys})
    events: list[Event] = []
    for key in keys:
        row = rows[key]
        old = row.estimate
        history = await session.exec(
            select(MasteryChange)
            .where(
                col(MasteryChange.tenant_id) == tenant_id,
                col(MasteryChange.learner_id) == key[0],
                col(MasteryChange.competency_id) == key[1],
            )
            .order_by(col(MasteryChange.seq))
        )
        models.replay(row, list(history))
        events.append(_event(tenant_id, row, old, None))
    await mastery_store.write_estimates(connection, tenant_id, list(rows.values()))
    return events


def _change(tenant_id: str, row: Estimate, observation: Observation, old: float, expected: float) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "learner_id": row.learner_id,
        "competency_id": row.competency_id,
        "statement_id": observation.statement_id,
        "correct": bool(observation.evidence.correct),
        "score": observation.evidence.score,
        "expected": expected,
        "old_estimate": old,
        "estimate": row.estimate,
        "status": row.status,
        "at": observation.at,
    }


def _event(tenant_id: str, row: Estimate, old: float, statement_id: str | None) -> Event:
    return Event(
        "mastery.updated",
        tenant_id,
        row.learner_id,
        {
            "competencyId": row.competency_id,
            "old": old,
            "new": row.estimate,
            "status": row.status,
            "evidenceCount": row.evidence_count,
            "statementId": statement_id,
        },
    )
