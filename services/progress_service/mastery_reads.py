"""Reading mastery: a learner's estimates and their history, a class's matrix, a learner's weekly progress."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.pagination import OffsetPage
from services.progress_service.evidence import evidence_of
from services.progress_service.models import Mastery, MasteryChange, Statement
from services.progress_service.schemas import ClassMastery, Status

STREAK_WINDOW_DAYS = 366


async def list_mastery(
    session: AsyncSession,
    tenant_id: str,
    learner_id: str,
    competencies: Sequence[str] = (),
    statuses: Sequence[str] = (),
) -> list[Mastery]:
    """A learner's estimates, optionally only some competencies or statuses, by competency id."""
    query = select(Mastery).where(col(Mastery.tenant_id) == tenant_id, col(Mastery.learner_id) == learner_id)
    if competencies:
        query = query.where(col(Mastery.competency_id).in_(competencies))
    if statuses:
        query = query.where(col(Mastery.status).in_(statuses))
    return list(await session.exec(query.order_by(col(Mastery.competency_id))))


async def mastery_history(
    session: AsyncSession, tenant_id: str, learner_id: str, competency_id: str, page: OffsetPage
) -> tuple[list[MasteryChange], int]:
    """One page of the changes of one estimate, oldest first, and how many there are."""
    where = (
        col(MasteryChange.tenant_id) == tenant_id,
        col(MasteryChange.learner_id) == learner_id,
        col(MasteryChange.competency_id) == competency_id,
    )
    total = (await session.exec(select(sa.func.count()).select_from(MasteryChange).where(*where))).one()
    rows = await session.exec(
        select(MasteryChange).where(*where).order_by(col(MasteryChange.seq)).offset(page.offset).limit(page.limit)
    )
    return list(rows), total


async def class_matrix(
    session: AsyncSession, tenant_id: str, learners: Sequence[str], competencies: Sequence[str]
) -> list[Mastery]:
    """Every estimate of the learners (in the competencies, when given): one query for the whole class."""
    query = select(Mastery).where(col(Mastery.tenant_id) == tenant_id, col(Mastery.learner_id).in_(learners))
    if competencies:
        query = query.where(col(Mastery.competency_id).in_(competencies))
    return list(await session.exec(query.order_by(col(Mastery.competency_id), col(Mastery.learner_id))))


def matrix_of(learners: list[str], competencies: list[str], rows: Sequence[Mastery]) -> ClassMastery:
    """The learners x competencies matrix of `rows` (columns: `competencies`, or every one with evidence)."""
    competencies = competencies or sorted({row.competency_id for row in rows})
    column = {c: i for i, c in enumerate(competencies)}
    line = {learner: i for i, learner in enumerate(learners)}
    estimates: list[list[float | None]] = [[None] * len(competencies) for _ in learners]
    statuses: list[list[Status]] = [["not_started"] * len(competencies) for _ in learners]
    for row in rows:
        if row.competency_id in column:
            estimates[line[row.learner_id]][column[row.competency_id]] = row.estimate
            statuses[line[row.learner_id]][column[row.competency_id]] = cast(Status, row.status)
    mastered = [sum(1 for r in statuses if r[i] == "mastered") for i in range(len(competencies))]
    return ClassMastery(
        learners=learners, competencies=competencies, estimates=estimates, statuses=statuses, mastered_counts=mastered
    )


def week_start(today: date) -> datetime:
    """Monday 00:00 UTC of the week `today` is in."""
    monday = today - timedelta(days=today.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


async def mastered_since(session: AsyncSession, tenant_id: str, learner_id: str, since: datetime) -> int:
    """How many competencies the learner newly reached mastery in since `since` (and still holds)."""
    previous = (
        sa.func.lag(col(MasteryChange.status))
        .over(partition_by=col(MasteryChange.competency_id), order_by=col(MasteryChange.seq))
        .label("previous")
    )
    changes = (
        select(MasteryChange.competency_id, MasteryChange.status, MasteryChange.at, previous)
        .where(col(MasteryChange.tenant_id) == tenant_id, col(MasteryChange.learner_id) == learner_id)
        .subquery()
    )
    crossed = (
        sa.select(changes.c.competency_id)
        .where(
            changes.c.at >= since,
            changes.c.status == "mastered",
            sa.or_(changes.c.previous.is_(None), changes.c.previous != "mastered"),
        )
        .distinct()
    )
    still = select(sa.func.count()).where(
        col(Mastery.tenant_id) == tenant_id,
        col(Mastery.learner_id) == learner_id,
        col(Mastery.status) == "mastered",
        col(Mastery.competency_id).in_(crossed),
    )
    return int((await session.exec(still)).one())


async def activity_days(session: AsyncSession, tenant_id: str, learner_id: str, today: date) -> set[date]:
    """The days (UTC) of the last year on which the learner produced statements."""
    since = datetime(today.year, today.month, today.day, tzinfo=UTC) - timedelta(days=STREAK_WINDOW_DAYS)
    rows = await session.exec(
        select(Statement.timestamp).where(
            col(Statement.tenant_id) == tenant_id,
            col(Statement.learner_id) == learner_id,
            col(Statement.timestamp) >= since,
            ~col(Statement.voided),
        )
    )
    return {timestamp.astimezone(UTC).date() for timestamp in rows}


def streak(days: set[date], today: date) -> int:
    """Consecutive active days ending today (or yesterday, so the streak holds until today's work)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


async def seconds_since(session: AsyncSession, tenant_id: str, learner_id: str, since: datetime) -> float:
    """Time on task since `since`: the sum of the statements' `result.duration`."""
    rows = await session.exec(
        select(Statement.body).where(
            col(Statement.tenant_id) == tenant_id,
            col(Statement.learner_id) == learner_id,
            col(Statement.timestamp) >= since,
            ~col(Statement.voided),
        )
    )
    return float(sum(evidence_of(dict(body)).seconds or 0.0 for body in rows))
