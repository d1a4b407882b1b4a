"""A small roster per tenant for authorization tests, written straight into the profile tables.

Per tenant: district `d` with schools `s1` and `s2`; teacher `t-a` teaches class `c-a` (school
`s1`, learners `l-a1` and `l-a2`); teacher `t-b` teaches class `c-b` (school `s2`, learner
`l-b1`); guardian `g-a1` of `l-a1`; admin `admin`. Every tenant uses the same ids, on purpose.
"""

from fastapi import FastAPI
from sqlmodel import SQLModel

from services.profile_service.models import Enrollment, Org, RosterClass, RosterUser, UserAgent


def roster_rows(tenant: str) -> list[SQLModel]:
    """The rows of the small roster, parents first."""

    def user(sourced_id: str, role: str, org: str | None) -> RosterUser:
        return RosterUser(
            tenant_id=tenant,
            sourced_id=sourced_id,
            role=role,
            given_name=sourced_id.upper(),
            family_name="Test",
            primary_org_sourced_id=org,
        )

    def enroll(class_id: str, user_id: str, role: str) -> Enrollment:
        return Enrollment(
            tenant_id=tenant,
            sourced_id=f"{class_id}-{user_id}",
            class_sourced_id=class_id,
            user_sourced_id=user_id,
            role=role,
        )

    return [
        Org(tenant_id=tenant, sourced_id="d", name="District", type="district"),
        Org(tenant_id=tenant, sourced_id="s1", name="School 1", type="school", parent_sourced_id="d"),
        Org(tenant_id=tenant, sourced_id="s2", name="School 2", type="school", parent_sourced_id="d"),
        user("admin", "administrator", "d"),
        user("t-a", "teacher", "s1"),
        user("t-b", "teacher", "s2"),
        user("l-a1", "student", "s1"),
        user("l-a2", "student", "s1"),
        user("l-b1", "student", "s2"),
        user("g-a1", "guardian", None),
        RosterClass(tenant_id=tenant, sourced_id="c-a", title="Class A", school_sourced_id="s1"),
        RosterClass(tenant_id=tenant, sourced_id="c-b", title="Class B", school_sourced_id="s2"),
        enroll("c-a", "t-a", "teacher"),
        enroll("c-a", "l-a1", "student"),
        enroll("c-a", "l-a2", "student"),
        enroll("c-b", "t-b", "teacher"),
        enroll("c-b", "l-b1", "student"),
        UserAgent(tenant_id=tenant, user_sourced_id="l-a1", agent_sourced_id="g-a1"),
    ]


async def make_roster(profile_app: FastAPI, *tenants: str) -> None:
    """Write the small roster of each tenant into the profile service's database."""
    async with profile_app.state.sessionmaker() as session:
        for tenant in tenants:
            for row in roster_rows(tenant):
                session.add(row)
                await session.flush()
        await session.commit()
