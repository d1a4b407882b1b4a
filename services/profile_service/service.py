"""Use cases of the profile service: thin routes call these; they flush, the session commits."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.errors import ConflictError, ForbiddenError, NotFoundError
from kit.outbox import add_events
from kit.pagination import OffsetPage
from services.profile_service import access, events
from services.profile_service.db import outbox
from services.profile_service.models import Org, RosterUser
from services.profile_service.schemas import LearnerCreate


def today() -> datetime:
    """The current UTC time (enrollment dates are compared against its date)."""
    return datetime.now(UTC)


async def create_learner(session: AsyncSession, principal: Principal, data: LearnerCreate) -> RosterUser:
    """Add a learner to the caller's tenant (admins, and partners with the roster write scope)."""
    if not access.writes_roster(principal):
        raise ForbiddenError("Adding learners needs the admin role, or the partner role with the roster write scope.")
    taken = ConflictError(f"A user with sourcedId {data.sourced_id!r} exists already.", field="sourcedId")
    if await session.get(RosterUser, (principal.tenant_id, data.sourced_id)) is not None:
        raise taken
    if (
        data.primary_org_sourced_id
        and await session.get(Org, (principal.tenant_id, data.primary_org_sourced_id)) is None
    ):
        raise NotFoundError(f"No org {data.primary_org_sourced_id!r}.", field="primaryOrgSourcedId")
    learner = RosterUser(tenant_id=principal.tenant_id, role=access.STUDENT_ROLE, **data.model_dump())
    session.add(learner)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request added the same sourcedId first
        raise taken from exc
    await add_events(
        session,
        outbox,
        [events.roster_changed("user", learner.tenant_id, learner.sourced_id, learner.status, learner.model_dump())],
    )
    return learner


async def list_learners(session: AsyncSession, principal: Principal, page: OffsetPage) -> tuple[list[RosterUser], int]:
    """One page of the learners the caller may read, and how many there are in all."""
    query = access.visible_learners(principal, today().date())
    total = (await session.exec(select(sa.func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(col(RosterUser.sourced_id)).limit(page.limit).offset(page.offset))
    return list(rows), total


async def get_learner(session: AsyncSession, principal: Principal, learner_id: str) -> RosterUser:
    """The learner, if the caller may read it; otherwise `NotFoundError` (existence is not leaked)."""
    query = access.visible_learners(principal, today().date()).where(col(RosterUser.sourced_id) == learner_id)
    learner = (await session.exec(query)).one_or_none()
    if learner is None:
        raise NotFoundError(f"No learner {learner_id!r} visible to you.")
    return learner


async def _relation(session: AsyncSession, principal: Principal, learner_ids: list[str]) -> dict[str, str]:
    """Why the caller may read each of `learner_ids` (all of them visible to the caller)."""
    relations: dict[str, str] = {}
    guarded: set[str] = set()
    administered: set[str] = set()
    connection = await session.connection()
    if principal.has_role("guardian"):
        guarded = set(await connection.scalars(access.guarded_learner_ids(principal)))
    if principal.has_role("admin"):
        administered = set(await connection.scalars(access.administered_learner_ids(principal)))
    for learner_id in learner_ids:
        if principal.has_role("learner") and principal.sub == learner_id:
            relations[learner_id] = "self"
        elif learner_id in administered:
            relations[learner_id] = "admin"
        elif access.sees_whole_tenant(principal):
            relations[learner_id] = "partner"
        elif learner_id in guarded:
            relations[learner_id] = "guardian"
        else:
            relations[learner_id] = "teacher"
    return relations


async def relation_to_learner(session: AsyncSession, principal: Principal, learner_id: str) -> str:
    """Why the caller may read `learner_id`: self, admin, partner, guardian or teacher.

    Raises `NotFoundError` when the caller may not read the learner.
    """
    await get_learner(session, principal, learner_id)
    return (await _relation(session, principal, [learner_id]))[learner_id]


async def list_relations(
    session: AsyncSession, principal: Principal, page: OffsetPage
) -> tuple[list[tuple[str, str]], int]:
    """One page of (learner id, relation) for every learner the caller may read, and the total."""
    learners, total = await list_learners(session, principal, page)
    ids = [learner.sourced_id for learner in learners]
    relations = await _relation(session, principal, ids)
    return [(learner_id, relations[learner_id]) for learner_id in ids], total


async def learner_ids_by_email(session: AsyncSession, principal: Principal, emails: list[str]) -> dict[str, str]:
    """The active learners of the caller's tenant with these addresses (API clients only: they record evidence)."""
    if not principal.has_role("partner"):
        raise ForbiddenError("Looking learners up by email is open to API clients only.")
    wanted: dict[str, list[str]] = {}
    for email in emails:
        wanted.setdefault(email.lower(), []).append(email)
    if not wanted:
        return {}
    rows = await session.exec(
        select(sa.func.lower(col(RosterUser.email)), RosterUser.sourced_id).where(
            col(RosterUser.tenant_id) == principal.tenant_id,
            col(RosterUser.role) == access.STUDENT_ROLE,
            col(RosterUser.status) == "active",
            sa.func.lower(col(RosterUser.email)).in_(list(wanted)),
        )
    )
    return {sent: sourced_id for email, sourced_id in rows for sent in wanted[email]}


async def class_learners(session: AsyncSession, principal: Principal, class_id: str) -> list[str]:
    """The class's active learners the caller may read; 404 when there are none (or no such class)."""
    today = datetime.now(UTC).date()
    learners = sorted(await session.exec(access.class_learner_ids(principal, class_id, today)))
    if not learners:
        raise NotFoundError(f"No class {class_id} with learners you may read.", field="class_id")
    return learners
