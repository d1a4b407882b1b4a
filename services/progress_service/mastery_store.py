"""Reading-with-lock and writing back the estimates a batch of evidence moves, in few round trips.

PostgreSQL gets the whole batch as one JSON parameter (`jsonb_to_recordset`), so each step is one
short statement whatever the batch size: create the missing ones, lock, write back. SQLite (one
writer at a time, so no locks needed) uses plain executemany. Missing estimates are created at
`not_started` before they are locked, so two transactions starting the same estimate serialize
on it instead of one overwriting the other.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.db import table_of
from services.progress_service.models import Mastery

Key = tuple[str, str]
"""(learner id, competency id)"""

TABLE: sa.Table = table_of(Mastery)
COLUMNS = ("learner_id", "competency_id", "framework_id", "estimate", "evidence_count", "status", "last_evidence_at")


@dataclass
class Estimate:
    """One learner's estimate of one competency while a batch moves it."""

    learner_id: str
    competency_id: str
    framework_id: str
    estimate: float = 0.0
    evidence_count: int = 0
    status: str = "not_started"
    last_evidence_at: datetime | None = None
    state: dict[str, Any] = field(default_factory=dict)


_PG_CREATE = sa.text(
    "INSERT INTO mastery (tenant_id, learner_id, competency_id, framework_id, estimate, evidence_count, status, state)"
    " SELECT :tenant, u.l, u.c, u.f, 0, 0, 'not_started', '{}'::jsonb"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(l text, c text, f text)"
    " ORDER BY u.l, u.c ON CONFLICT DO NOTHING"
)
_PG_LOCK = sa.text(
    # One index probe per key, locked in key order so concurrent batches never deadlock.
    "SELECT m.learner_id, m.competency_id, m.framework_id, m.estimate, m.evidence_count, m.status,"
    " m.last_evidence_at, m.state"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS u(l text, c text)"
    " CROSS JOIN LATERAL (SELECT * FROM mastery x WHERE x.tenant_id = :tenant AND x.learner_id = u.l"
    " AND x.competency_id = u.c FOR UPDATE) AS m ORDER BY m.learner_id, m.competency_id"
)
_PG_WRITE = sa.text(
    "UPDATE mastery m SET estimate = u.e, evidence_count = u.n, status = u.s, last_evidence_at = u.t, state = u.j"
    " FROM jsonb_to_recordset(CAST(:rows AS jsonb))"
    " AS u(l text, c text, e float8, n int, s text, t timestamptz, j jsonb)"
    " WHERE m.tenant_id = :tenant AND m.learner_id = u.l AND m.competency_id = u.c"
)


async def lock_estimates(
    connection: AsyncConnection, tenant_id: str, frameworks: dict[Key, str]
) -> dict[Key, Estimate]:
    """The estimates of `frameworks`' keys (created where new, with that framework), locked until commit."""
    keys = sorted(frameworks)
    learners = [k[0] for k in keys]
    competencies = [k[1] for k in keys]
    if connection.dialect.name == "postgresql":
        batch = orjson.dumps([{"l": k[0], "c": k[1], "f": frameworks[k]} for k in keys]).decode()
        await connection.execute(_PG_CREATE, {"tenant": tenant_id, "rows": batch})
        rows = (await connection.execute(_PG_LOCK, {"tenant": tenant_id, "rows": batch})).all()
    else:
        fresh = [
            {"tenant_id": tenant_id, "learner_id": k[0], "competency_id": k[1], "framework_id": frameworks[k]}
            | {"estimate": 0.0, "evidence_count": 0, "status": "not_started", "state": {}}
            for k in keys
        ]
        await connection.execute(sqlite.insert(TABLE).on_conflict_do_nothing(), fresh)
        query = sa.select(*(TABLE.c[c] for c in COLUMNS), TABLE.c.state).where(
            TABLE.c.tenant_id == tenant_id,
            TABLE.c.learner_id.in_(sorted(set(learners))),
            TABLE.c.competency_id.in_(sorted(set(competencies))),
        )
        rows = (await connection.execute(query)).all()
    found = {(r.learner_id, r.competency_id): Estimate(*r) for r in rows}
    return {key: found[key] for key in keys}


async def write_estimates(connection: AsyncConnection, tenant_id: str, estimates: Sequence[Estimate]) -> None:
    """Write the moved estimates back."""
    if not estimates:
        return
    if connection.dialect.name == "postgresql":
        batch = [
            {"l": e.learner_id, "c": e.competency_id, "e": e.estimate, "n": e.evidence_count}
            | {"s": e.status, "t": e.last_evidence_at, "j": e.state}
            for e in estimates
        ]
        await connection.execute(_PG_WRITE, {"tenant": tenant_id, "rows": orjson.dumps(batch).decode()})
        return
    statement = (
        sa.update(TABLE)
        .where(
            TABLE.c.tenant_id == tenant_id,
            TABLE.c.learner_id == sa.bindparam("k_learner"),
            TABLE.c.competency_id == sa.bindparam("k_competency"),
        )
        .values({name: sa.bindparam(name) for name in (*COLUMNS[3:], "state")})
    )
    params = [
        {"k_learner": e.learner_id, "k_competency": e.competency_id}
        | {"estimate": e.estimate, "evidence_count": e.evidence_count, "status": e.status}
        | {"last_evidence_at": e.last_evidence_at, "state": e.state}
        for e in estimates
    ]
    await connection.execute(statement, params)
