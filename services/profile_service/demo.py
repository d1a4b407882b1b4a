"""The demo district (tenant `demo`): deterministic roster data, loaded through the roster store.

1 district, 2 schools, a school year with its fall term, 4 courses, 1 admin, 8 teachers,
240 students each with a guardian, 12 classes (per school: four math sections of 30, two
science sections of 60), and their enrollments. Loading it twice changes nothing.
"""

from collections.abc import Iterator
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services.profile_service import roster_store
from services.profile_service.oneroster_kinds import KINDS
from services.profile_service.oneroster_schemas import WRITE_MODELS

TENANT = "demo"
GIVEN_NAMES = ("Ava", "Ben", "Chloe", "Diego", "Elif", "Farah", "Gus", "Hana", "Ivan", "Jada", "Kofi", "Lena")
FAMILY_NAMES = ("Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Uddin", "Vega", "Weber")
SCHOOLS = ("north", "south")
STUDENTS_PER_SCHOOL = 120
TEACHERS_PER_SCHOOL = 4
DISTRICT = "demo-district"
TERM = "demo-fall-2026"


def _name(index: int) -> tuple[str, str]:
    return GIVEN_NAMES[index % len(GIVEN_NAMES)], FAMILY_NAMES[(index * 7) % len(FAMILY_NAMES)]


def _ref(sourced_id: str, type_name: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "type": type_name}


def _user(sourced_id: str, role: str, org: str | None, given: str, family: str, **fields: Any) -> dict[str, Any]:
    roles = [{"roleType": "primary", "role": role, "org": _ref(org or DISTRICT, "org")}]
    primary = {"primaryOrg": _ref(org, "org")} if org else {}
    return {"sourcedId": sourced_id, "givenName": given, "familyName": family, "roles": roles, **primary, **fields}


def demo_roster() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every demo object as (kind, OneRoster JSON), parents before children."""
    yield "org", {"sourcedId": DISTRICT, "name": "Riverbend Demo District", "type": "district"}
    year = {"title": "2026-27", "startDate": "2026-08-17", "endDate": "2027-06-11", "schoolYear": "2027"}
    yield "academicSession", {"sourcedId": "demo-2026-27", "type": "schoolYear", **year}
    fall = {**year, "title": "Fall 2026", "endDate": "2026-12-18", "parent": _ref("demo-2026-27", "academicSession")}
    yield "academicSession", {"sourcedId": TERM, "type": "term", **fall}
    yield "user", _user("demo-admin", "districtAdministrator", DISTRICT, "Dana", "Admin", email="admin@demo.plp.dev")
    for s, school_key in enumerate(SCHOOLS):
        school = f"demo-school-{school_key}"
        yield (
            "org",
            {
                "sourcedId": school,
                "name": f"{school_key.title()} Elementary",
                "type": "school",
                "parent": _ref(DISTRICT, "org"),
            },
        )
        for subject in ("math", "science"):
            course = {
                "sourcedId": f"demo-course-{school_key}-{subject}",
                "title": f"{subject.title()} 3-5",
                "org": _ref(school, "org"),
            }
            yield "course", {**course, "subjects": [subject]}
        teachers = [f"demo-teacher-{s * TEACHERS_PER_SCHOOL + t + 1:02d}" for t in range(TEACHERS_PER_SCHOOL)]
        for t, teacher in enumerate(teachers):
            given, family = _name(100 + s * TEACHERS_PER_SCHOOL + t)
            yield "user", _user(teacher, "teacher", school, given, family, email=f"{teacher}@demo.plp.dev")
        sections = [("math", f"math-{c}", f"Math {c.upper()}", teachers[i]) for i, c in enumerate("abcd")]
        sections += [("science", f"science-{n}", f"Science {n}", teachers[n - 1]) for n in (1, 2)]
        for subject, key, title, teacher in sections:
            class_id = f"demo-class-{school_key}-{key}"
            yield (
                "class",
                {
                    "sourcedId": class_id,
                    "title": title,
                    "course": _ref(f"demo-course-{school_key}-{subject}", "course"),
                    "school": _ref(school, "org"),
                    "terms": [_ref(TERM, "academicSession")],
                },
            )
            yield "enrollment", _enrollment(class_id, teacher, "teacher", school, primary=True)
        for i in range(STUDENTS_PER_SCHOOL):
            number = s * STUDENTS_PER_SCHOOL + i + 1
            student, guardian = f"demo-student-{number:03d}", f"demo-guardian-{number:03d}"
            given, family = _name(number)
            grade = f"{3 + i % 3:02d}"
            yield (
                "user",
                _user(
                    student,
                    "student",
                    school,
                    given,
                    family,
                    username=student,
                    grades=[grade],
                    agents=[_ref(guardian, "user")],
                ),
            )
            guardian_email = f"{guardian}@demo.plp.dev"
            yield "user", _user(guardian, "guardian", school, _name(number + 500)[0], family, email=guardian_email)
            for class_key in (f"math-{'abcd'[i // 30]}", f"science-{1 + i // 60}"):
                yield "enrollment", _enrollment(f"demo-class-{school_key}-{class_key}", student, "student", school)


def _enrollment(class_id: str, user_id: str, role: str, school: str, primary: bool = False) -> dict[str, Any]:
    return {
        "sourcedId": f"{class_id}-{user_id}",
        "class": _ref(class_id, "class"),
        "user": _ref(user_id, "user"),
        "school": _ref(school, "org"),
        "role": role,
        "primary": primary,
    }


async def seed_demo(session: AsyncSession) -> dict[str, int]:
    """Create the demo objects that are missing or differ (with their events); returns objects written per kind."""
    by_kind: dict[str, list[roster_store.RosterRecord]] = {name: [] for name in KINDS}
    for kind, data in demo_roster():
        by_kind[kind].append(WRITE_MODELS[kind].model_validate(data).to_record())
    written: dict[str, int] = {}
    for kind, records in by_kind.items():
        if records:
            outcomes = await roster_store.apply_records(session, TENANT, kind, records)
            failed = [o for o in outcomes if o.result == "error"]
            if failed:
                raise ValueError(f"demo data rejected: {failed[0].to_json()}")
            written[kind] = sum(o.result in {"created", "updated"} for o in outcomes)
    return written
