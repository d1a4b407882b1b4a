"""`kit.outbox`: events written in the caller's transaction, then relayed in order and marked."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kit.db import COPY_AT
from kit.outbox import Event, add_events, relay_pending
from services.profile_service.db import outbox
from tests.conftest import Apps


class RecordingRelay:
    """A relay that keeps what it was asked to publish, one list per call."""

    def __init__(self) -> None:
        self.calls: list[list[Event]] = []

    async def publish(self, events: Sequence[Event]) -> None:
        """Record `events`."""
        self.calls.append(list(events))

    @property
    def published(self) -> list[Event]:
        """Every event published so far, in order."""
        return [e for call in self.calls for e in call]


class BrokenRelay:
    """A relay whose broker is down."""

    async def publish(self, events: Sequence[Event]) -> None:
        """Fail like an unreachable broker."""
        raise ConnectionError("broker unreachable")


def events(count: int, tenant: str = "t1") -> list[Event]:
    """`count` distinct events of `tenant`."""
    return [Event(type="learner.updated", tenant_id=tenant, subject_id=f"l-{i}", data={"n": i}) for i in range(count)]


def sessions(apps: Apps) -> async_sessionmaker[AsyncSession]:
    """The profile service's sessions."""
    sessionmaker: async_sessionmaker[AsyncSession] = apps.profile.state.sessionmaker
    return sessionmaker


async def unpublished_ids(apps: Apps) -> list[str]:
    """Ids of the outbox rows not yet published, oldest first."""
    async with apps.profile.state.engine.connect() as conn:
        rows = await conn.execute(sa.select(outbox.c.id).where(outbox.c.published_at.is_(None)).order_by(outbox.c.seq))
        return [r.id for r in rows]


async def write(apps: Apps, batch: Sequence[Event]) -> None:
    """Add `batch` to the outbox and commit."""
    async with sessions(apps)() as session:
        await add_events(session, outbox, batch)
        await session.commit()


class TestEvent:
    def test_to_json_is_the_envelope(self) -> None:
        occurred = datetime(2024, 6, 1, 12, 0, 5, tzinfo=UTC)
        event = Event(
            type="mastery.changed",
            tenant_id="t1",
            subject_id="l-a1",
            data={"competency": "3.NF.A.1", "level": 2},
            id="0b5a4f0e-1111-4222-8333-944445555666",
            occurred_at=occurred,
        )
        assert event.to_json() == {
            "id": "0b5a4f0e-1111-4222-8333-944445555666",
            "type": "mastery.changed",
            "tenant_id": "t1",
            "subject_id": "l-a1",
            "occurred_at": "2024-06-01T12:00:05+00:00",
            "data": {"competency": "3.NF.A.1", "level": 2},
        }

    def test_defaults_are_a_fresh_uuid_and_the_current_utc_time(self) -> None:
        first, second = events(2)
        assert first.id != second.id
        assert len(first.id) == 36
        assert first.occurred_at.tzinfo is UTC


class TestAddEvents:
    async def test_events_are_stored_unpublished(self, apps: Apps) -> None:
        batch = events(3)
        await write(apps, batch)
        assert await unpublished_ids(apps) == [e.id for e in batch]

    async def test_events_are_discarded_with_a_rolled_back_transaction(self, apps: Apps) -> None:
        async with sessions(apps)() as session:
            await add_events(session, outbox, events(2))
            await session.rollback()
        assert await unpublished_ids(apps) == []

    async def test_no_events_writes_nothing(self, apps: Apps) -> None:
        await write(apps, [])
        assert await unpublished_ids(apps) == []

    async def test_a_large_batch_keeps_its_order_and_envelopes(self, apps: Apps) -> None:
        batch = events(COPY_AT + 5)  # PostgreSQL takes this many with COPY
        await write(apps, batch)

        assert await unpublished_ids(apps) == [e.id for e in batch]
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            await relay_pending(session, outbox, relay, batch=len(batch))
        assert [e.to_json() for e in relay.published] == [e.to_json() for e in batch]


class TestRelayPending:
    async def test_pending_events_are_published_in_order_and_marked(self, apps: Apps) -> None:
        first, second = events(2), events(2, tenant="t2")
        await write(apps, first)
        await write(apps, second)
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            assert await relay_pending(session, outbox, relay) == 4
        assert [e.id for e in relay.published] == [e.id for e in first + second]
        assert await unpublished_ids(apps) == []
        async with apps.profile.state.engine.connect() as conn:
            stamps = (await conn.execute(sa.select(outbox.c.published_at))).scalars().all()
        assert len(stamps) == 4
        assert all(s is not None and s.tzinfo is UTC for s in stamps)

    async def test_published_events_carry_the_written_envelope(self, apps: Apps) -> None:
        written = Event(
            type="learner.updated",
            tenant_id="t1",
            subject_id="l-a1",
            data={"given_name": "Ada", "grades": ["03"], "nested": {"ok": True}},
            occurred_at=datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        )
        await write(apps, [written])
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            await relay_pending(session, outbox, relay)
        (published,) = relay.published
        assert published == written
        assert published.to_json()["occurred_at"] == "2024-06-01T12:00:00+00:00"

    async def test_a_second_call_publishes_nothing(self, apps: Apps) -> None:
        await write(apps, events(2))
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            assert await relay_pending(session, outbox, relay) == 2
        async with sessions(apps)() as session:
            assert await relay_pending(session, outbox, relay) == 0
        assert len(relay.calls) == 1

    async def test_an_empty_outbox_does_not_call_the_relay(self, apps: Apps) -> None:
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            assert await relay_pending(session, outbox, relay) == 0
        assert relay.calls == []

    async def test_a_batch_takes_the_oldest_events_first(self, apps: Apps) -> None:
        batch = events(5)
        await write(apps, batch)
        relay = RecordingRelay()
        counts = []
        for _ in range(4):
            async with sessions(apps)() as session:
                counts.append(await relay_pending(session, outbox, relay, batch=2))
        assert counts == [2, 2, 1, 0]
        assert [[e.id for e in call] for call in relay.calls] == [
            [batch[0].id, batch[1].id],
            [batch[2].id, batch[3].id],
            [batch[4].id],
        ]

    async def test_a_failing_relay_leaves_the_events_unpublished(self, apps: Apps) -> None:
        batch = events(3)
        await write(apps, batch)
        async with sessions(apps)() as session:
            with pytest.raises(ConnectionError, match="broker unreachable"):
                await relay_pending(session, outbox, BrokenRelay())
        assert await unpublished_ids(apps) == [e.id for e in batch]

    async def test_events_left_by_a_failed_relay_are_published_next_time(self, apps: Apps) -> None:
        batch = events(2)
        await write(apps, batch)
        async with sessions(apps)() as session:
            with pytest.raises(ConnectionError):
                await relay_pending(session, outbox, BrokenRelay())
        relay = RecordingRelay()
        async with sessions(apps)() as session:
            assert await relay_pending(session, outbox, relay) == 2
        assert [e.id for e in relay.published] == [e.id for e in batch]
