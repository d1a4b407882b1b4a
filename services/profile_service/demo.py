"""The demo district (tenant `demo`): deterministic roster data and its idempotent loading.

1 district, 2 schools, 1 admin, 8 teachers, 240 students each with a guardian, 12 classes
(per school: four math sections of 30, two science sections of 60), and their enrollments.
"""

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.outbox import Event, add_events
from services.profile_service import events
from services.profile_service.db import ProfileTable, metadata, outbox
from services.profile_service.models import Enrollment, Org, RosterClass, RosterUser, UserAgent

TENANT = "demo"
GIVEN_NAMES = ("Ava", "Ben", "Chloe", "Diego", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jada", "Kofi", "Lena")
FAMILY_NAMES = ("Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Uddin", "Vega", "Weber")
SCHOOLS = ("north", "south")
STUDENTS_PER_SCHOOL = 120
TEACHERS_PER_SCHOOL = 4


def _name(index: int) -> tuple[str, str]:
    return GIVEN_NAMES[index % len(GIVEN_NAMES)], FAMILY_NAMES[(index * 7) % len(FAMILY_NAMES)]


def demo_roster() -> Iterator[ProfileTable]:
    """Every demo row, parents before children (so foreign keys hold as they are inserted)."""
    district = "demo-district"
    yield Org(tenant_id=TENANT, sourced_id=district, name="Riverbend Demo District", type="district")
    yield RosterUser(
        tenant_id=TENANT,
        sourced_id="demo-admin",
        role="administrator",
        given_name="Dana",
        family_name="Admin",
        email="admin@demo.plp.dev",
        primary_org_sourced_id=district,
    )
    for s, school_key in enumerate(SCHOOLS):
        school = f"demo-school-{school_key}"
        yield Org(
            tenant_id=TENANT,
            sourced_id=school,
            name=f"{school_key.title()} Elementary",
            type="school",
            parent_sourced_id=district,
        )
        teachers = [f"demo-teacher-{s * TEACHERS_PER_SCHOOL + t + 1:02d}" for t in range(TEACHERS_PER_SCHOOL)]
        for t, teacher in enumerate(teachers):
            given, family = _name(100 + s * TEACHERS_PER_SCHOOL + t)
            yield RosterUser(
                tenant_id=TENANT,
                sourced_id=teacher,
                role="teacher",
                given_name=given,
                family_name=family,
                email=f"{teacher}@demo.plp.dev",
                primary_org_sourced_id=school,
            )
        sections = [(f"math-{c}", f"Math {c.upper()}", teachers[i]) for i, c in enumerate("abcd")]
        sections += [(f"science-{n}", f"Science {n}", teachers[n - 1]) for n in (1, 2)]
        for key, title, teacher in sections:
            class_id = f"demo-class-{school_key}-{key}"
            yield RosterClass(tenant_id=TENANT, sourced_id=class_id, title=title, school_sourced_id=school)
            yield Enrollment(
                tenant_id=TENANT,
                sourced_id=f"{class_id}-{teacher}",
                class_sourced_id=class_id,
                user_sourced_id=teacher,
                role="teacher",
                primary=True,
            )
        for i in range(STUDENTS_PER_SCHOOL):
            number = s * STUDENTS_PER_SCHOOL + i + 1
            student, guardian = f"demo-student-{number:03d}", f"demo-guardian-{number:03d}"
            given, family = _name(number)
            yield RosterUser(
                tenant_id=TENANT,
                sourced_id=student,
                role="student",
                given_name=given,
                family_name=family,
                username=student,
                grades=[f"{3 + i % 3:02d}"],
                primary_org_sourced_id=school,
            )
            yield RosterUser(
                tenant_id=TENANT,
                sourced_id=guardian,
                role="guardian",
                given_name=_name(number + 500)[0],
                family_name=family,
                email=f"{guardian}@demo.plp.dev",
            )
            yield UserAgent(tenant_id=TENANT, user_sourced_id=student, agent_sourced_id=guardian)
            for class_key in (f"math-{'abcd'[i // 30]}", f"science-{1 + i // 60}"):
                class_id = f"demo-class-{school_key}-{class_key}"
                yield Enrollment(
                    tenant_id=TENANT,
                    sourced_id=f"{class_id}-{student}",
                    class_sourced_id=class_id,
                    user_sourced_id=student,
                    role="student",
                )


def _table_of(row: ProfileTable) -> sa.Table:
    table: sa.Table = getattr(type(row), "__table__")  # noqa: B009 - set by SQLModel on table classes
    return table


def _key(row: ProfileTable) -> tuple[Any, ...]:
    return tuple(getattr(row, column.key) for column in _table_of(row).primary_key.columns)


def _event_for(row: ProfileTable) -> Event | None:
    if isinstance(row, RosterUser):
        return events.user_upserted(row)
    if isinstance(row, Enrollment):
        return events.enrollment_changed(row)
    return None


async def seed_demo(session: AsyncSession) -> dict[str, int]:
    """Insert the demo rows that are missing (with their events); returns rows added per table."""
    by_table: dict[str, list[ProfileTable]] = {}
    for row in demo_roster():
        by_table.setdefault(_table_of(row).name, []).append(row)
    added: dict[str, int] = {}
    new_events: list[Event] = []
    connection = await session.connection()
    for table in metadata.sorted_tables:
        rows = by_table.get(table.name, [])
        if not rows:
            continue
        found = await connection.execute(sa.select(*table.primary_key.columns).where(table.c.tenant_id == TENANT))
        existing = {tuple(r) for r in found}
        missing = [row for row in rows if _key(row) not in existing]
        session.add_all(missing)
        await session.flush()
        added[table.name] = len(missing)
        new_events.extend(e for e in map(_event_for, missing) if e is not None)
    await add_events(session, outbox, new_events)
    return added
