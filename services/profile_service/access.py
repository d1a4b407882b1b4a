"""Caller-scoped queries: the one place tenancy and role filters on learners are written.

Learners see themselves; guardians their linked learners; teachers learners with an active
enrollment in a class they teach; admins the learners of their orgs and those orgs' children
(their orgs are the ones the roster lists for them: `roles[].org` and `primaryOrg`); partners
holding a roster read scope their whole tenant. Learners marked `tobedeleted` are seen by no one.
"""

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from kit.auth import Principal
from services.profile_service.models import Enrollment, Org, RosterUser, UserAgent, UserRole
from services.profile_service.oneroster_kinds import ORG
from services.profile_service.scopes import ROSTER_READ_SCOPES, ROSTER_WRITE

STUDENT_ROLE = "student"


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


def guarded_learner_ids(principal: Principal) -> sa.CompoundSelect[tuple[str]]:
    """Ids of users linked to the principal as agents, in either direction of OneRoster's `agents[]`."""
    listed_as_agent = select(UserAgent.user_sourced_id).where(
        col(UserAgent.tenant_id) == principal.tenant_id, col(UserAgent.agent_sourced_id) == principal.sub
    )
    listing_agents = select(UserAgent.agent_sourced_id).where(
        col(UserAgent.tenant_id) == principal.tenant_id, col(UserAgent.user_sourced_id) == principal.sub
    )
    return sa.union(listed_as_agent, listing_agents)


def administered_org_ids(principal: Principal) -> sa.CTE:
    """The orgs the principal's roster entry names (roles and primary org) and all their descendants."""
    own_roles = select(UserRole.org_sourced_id).where(
        col(UserRole.tenant_id) == principal.tenant_id, col(UserRole.user_sourced_id) == principal.sub
    )
    primary = select(RosterUser.primary_org_sourced_id).where(
        col(RosterUser.tenant_id) == principal.tenant_id,
        col(RosterUser.sourced_id) == principal.sub,
        col(RosterUser.status) == "active",
    )
    tree = (
        select(col(Org.sourced_id).label("org_id"))
        .where(col(Org.tenant_id) == principal.tenant_id, col(Org.sourced_id).in_(sa.union(own_roles, primary)))
        .cte("administered_org", recursive=True)
    )
    children = sa.select(ORG.c.sourced_id.label("org_id")).where(
        col(Org.tenant_id) == principal.tenant_id, col(Org.parent_sourced_id) == tree.c.org_id
    )
    return tree.union(children)


def administered_learner_ids(principal: Principal) -> sa.Select[tuple[str]]:
    """Ids of learners whose primary org or one of whose roles is in the principal's org subtree."""
    tree = administered_org_ids(principal)
    orgs = sa.select(tree.c.org_id)
    by_role = select(UserRole.user_sourced_id).where(
        col(UserRole.tenant_id) == principal.tenant_id, col(UserRole.org_sourced_id).in_(orgs)
    )
    by_primary_org = select(RosterUser.sourced_id).where(
        col(RosterUser.tenant_id) == principal.tenant_id, col(RosterUser.primary_org_sourced_id).in_(orgs)
    )
    return sa.select(sa.union(by_role, by_primary_org).subquery().c[0])


def sees_whole_tenant(principal: Principal) -> bool:
    """Partners holding a roster read scope see every learner of their tenant."""
    return principal.has_role("partner") and principal.has_scope(*ROSTER_READ_SCOPES)


def writes_roster(principal: Principal) -> bool:
    """Admins, and partners holding the roster write scope, may change their tenant's roster."""
    return principal.has_role("admin") or (principal.has_role("partner") and principal.has_scope(ROSTER_WRITE))


def visible_learners(principal: Principal, today: date) -> SelectOfScalar[RosterUser]:
    """The learners of the principal's tenant that the principal may read."""
    query = select(RosterUser).where(
        col(RosterUser.tenant_id) == principal.tenant_id,
        col(RosterUser.role) == STUDENT_ROLE,
        col(RosterUser.status) == "active",
    )
    if sees_whole_tenant(principal):
        return query
    allowed: list[ColumnElement[bool]] = []
    if principal.has_role("admin"):
        allowed.append(col(RosterUser.sourced_id).in_(administered_learner_ids(principal)))
    if principal.has_role("learner"):
        allowed.append(col(RosterUser.sourced_id) == principal.sub)
    if principal.has_role("guardian"):
        allowed.append(col(RosterUser.sourced_id).in_(guarded_learner_ids(principal)))
    if principal.has_role("teacher"):
        allowed.append(col(RosterUser.sourced_id).in_(taught_learner_ids(principal, today)))
    return query.where(sa.or_(*allowed) if allowed else sa.false())


def class_learner_ids(principal: Principal, class_id: str, today: date) -> SelectOfScalar[str]:
    """Ids of the learners actively enrolled in the class that the principal may read."""
    return (
        select(Enrollment.user_sourced_id)
        .where(
            col(Enrollment.tenant_id) == principal.tenant_id,
            col(Enrollment.class_sourced_id) == class_id,
            col(Enrollment.role) == STUDENT_ROLE,
            _active(Enrollment, today),
            col(Enrollment.user_sourced_id).in_(
                visible_learners(principal, today).with_only_columns(col(RosterUser.sourced_id))
            ),
        )
        .distinct()
    )
