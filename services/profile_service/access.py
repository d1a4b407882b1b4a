"""Caller-scoped queries: the one place tenancy and role filters on learners are written.

Learners see themselves; guardians their linked learners; teachers learners with an active
enrollment in a class they teach; admins and partners with a roster read scope their tenant.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from kit.auth import Principal
from services.profile_service.models import Enrollment, RosterUser, UserAgent

STUDENT_ROLE = "student"
ROSTER_READ_SCOPES = (
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster.readonly",
    "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly",
)
ROSTER_WRITE_SCOPE = "https://plp.dev/scope/roster.write"


def _active(enrollment: type[Enrollment], today: date) -> ColumnElement[bool]:
    return sa.and_(
        col(enrollment.status) == "active",
        sa.or_(col(enrollment.begin_date).is_(None), col(enrollment.begin_date) <= today),
        sa.or_(col(enrollment.end_date).is_(None), col(enrollment.end_date) >= today),
    )


def taught_learner_ids(principal: Principal, today: date) -> SelectOfScalar[str]:
    """Ids of learners actively enrolled as students in a class the principal actively teaches."""
    learner_enrollment = aliased(Enrollment)
    teacher_enrollment = aliased(Enrollment)
    return (
        select(learner_enrollment.user_sourced_id)
        .join(
            teacher_enrollment,
            sa.and_(
                col(teacher_enrollment.tenant_id) == col(learner_enrollment.tenant_id),
                col(teacher_enrollment.class_sourced_id) == col(learner_enrollment.class_sourced_id),
            ),
        )
        .where(
            col(learner_enrollment.tenant_id) == principal.tenant_id,
            col(learner_enrollment.role) == STUDENT_ROLE,
            _active(learner_enrollment, today),
            col(teacher_enrollment.user_sourced_id) == principal.sub,
            col(teacher_enrollment.role) == "teacher",
            _active(teacher_enrollment, today),
        )
    )


def guarded_learner_ids(principal: Principal) -> sa.CompoundSelect:
    """Ids of users linked to the principal as agents, in either direction of OneRoster's `agents[]`."""
    listed_as_agent = select(UserAgent.user_sourced_id).where(
        col(UserAgent.tenant_id) == principal.tenant_id, col(UserAgent.agent_sourced_id) == principal.sub
    )
    listing_agents = select(UserAgent.agent_sourced_id).where(
        col(UserAgent.tenant_id) == principal.tenant_id, col(UserAgent.user_sourced_id) == principal.sub
    )
    return sa.union(listed_as_agent, listing_agents)


def sees_whole_tenant(principal: Principal) -> bool:
    """Admins, and partners holding a roster read scope, see every learner of their tenant."""
    return principal.has_role("admin") or (principal.has_role("partner") and principal.has_scope(*ROSTER_READ_SCOPES))


def writes_roster(principal: Principal) -> bool:
    """Admins, and partners holding the roster write scope, may change their tenant's roster."""
    return principal.has_role("admin") or (principal.has_role("partner") and principal.has_scope(ROSTER_WRITE_SCOPE))


def visible_learners(principal: Principal, today: date) -> SelectOfScalar[RosterUser]:
    """The learners of the principal's tenant that the principal may read."""
    query = select(RosterUser).where(
        col(RosterUser.tenant_id) == principal.tenant_id, col(RosterUser.role) == STUDENT_ROLE
    )
    if sees_whole_tenant(principal):
        return query
    allowed: list[ColumnElement[bool]] = []
    if principal.has_role("learner"):
        allowed.append(col(RosterUser.sourced_id) == principal.sub)
    if principal.has_role("guardian"):
        allowed.append(col(RosterUser.sourced_id).in_(guarded_learner_ids(principal)))
    if principal.has_role("teacher"):
        allowed.append(col(RosterUser.sourced_id).in_(taught_learner_ids(principal, today)))
    return query.where(sa.or_(*allowed) if allowed else sa.false())
