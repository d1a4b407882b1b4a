"""The transactional outbox: every state change writes its event in the same transaction.

A relay (NATS JetStream in production, HTTP in the embedded default) later reads unpublished
rows in order and publishes them; the event envelope is `id, type, tenant_id, subject_id,
occurred_at, data`.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import BIGINT_ID, JSON_TEXT_TYPE, UtcDateTime, insert_rows


@dataclass(frozen=True, slots=True)
class Event:
    """The envelope every service publishes."""

    type: str
    tenant_id: str
    subject_id: str
    data: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def to_json(self) -> dict[str, Any]:
        """The envelope as JSON-ready data."""
        return {
            "id": self.id,
            "type": self.type,
            "tenant_id": self.tenant_id,
            "subject_id": self.subject_id,
            "occurred_at": self.occurred_at.isoformat(),
            "data": self.data,
        }


def define_outbox(metadata: sa.MetaData) -> sa.Table:
    """The `outbox` table in a service's own metadata."""
    return sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", BIGINT_ID, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(36), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("subject_id", sa.String(255), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("data", JSON_TEXT_TYPE, nullable=False),  # written once, read by the relay: text is cheaper
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Index("ix_outbox_unpublished", "published_at", "seq"),
    )


EVENT_COLUMNS = ("id", "type", "tenant_id", "subject_id", "occurred_at", "data")


async def add_events(session: AsyncSession, outbox: sa.Table, events: Sequence[Event]) -> None:
    """Write `events` into the outbox within the caller's transaction."""
    if not events:
        return
    rows = [
        dict(zip(EVENT_COLUMNS, (e.id, e.type, e.tenant_id, e.subject_id, e.occurred_at, e.data), strict=True))
        for e in events
    ]
    await insert_rows(session, outbox, rows)


class Relay(Protocol):
    """Publishes events somewhere (NATS JetStream, HTTP subscribers); raises when it cannot."""

    async def publish(self, events: Sequence[Event]) -> None:
        """Deliver `events` in order, at least once."""


async def relay_pending(session: AsyncSession, outbox: sa.Table, relay: Relay, *, batch: int = 500) -> int:
    """Publish the oldest unpublished events through `relay`, mark them, and return how many."""
    connection = await session.connection()
    rows = (
        await connection.execute(
            sa.select(outbox).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq).limit(batch)
        )
    ).all()
    if not rows:
        return 0
    events = [
        Event(
            id=r.id,
            type=r.type,
            tenant_id=r.tenant_id,
            subject_id=r.subject_id,
            occurred_at=r.occurred_at,
            data=r.data,
        )
        for r in rows
    ]
    await relay.publish(events)
    await connection.execute(
        sa.update(outbox).where(outbox.c.seq.in_([r.seq for r in rows])).values(published_at=datetime.now(UTC))
    )
    await session.commit()
    return len(events)
