"""Roster tables, shaped after OneRoster 1.2; every key starts with `tenant_id`.

Objects are never removed: a delete sets `status` to `tobedeleted` (a tombstone delta readers
see). Lists of references get their own tables (`class_term`, `user_role`, `user_agent`) so the
database can filter and join on them.
"""

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import JSON_TYPE, UtcDateTime
from services.profile_service.db import ProfileTable


def utc_now() -> datetime:
    """Now, in UTC, at millisecond precision (OneRoster's `dateLastModified`)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _reference(columns: list[str], table: str) -> sa.ForeignKeyConstraint:
    """A same-tenant reference from `columns` (after `tenant_id`) to `table`'s key."""
    return sa.ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.sourced_id"])


class RosterBase(ProfileTable):
    """Columns every OneRoster object has."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    sourced_id: str = Field(primary_key=True, max_length=255)
    status: str = Field(default="active", max_length=16)
    date_last_modified: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())
    extra_metadata: dict[str, Any] | None = Field(
        default=None, sa_type=JSON_TYPE, sa_column_kwargs={"name": "metadata"}
    )


class Org(RosterBase, table=True):
    """A district, school, department or other organisation."""

    name: str = Field(max_length=255)
    type: str = Field(max_length=32)
    identifier: str | None = Field(default=None, max_length=255)
    parent_sourced_id: str | None = Field(default=None, max_length=255)

    __table_args__ = (
        _reference(["parent_sourced_id"], "org"),
        sa.Index("ix_org_modified", "tenant_id", "date_last_modified"),
    )


class AcademicSession(RosterBase, table=True):
    """A school year, semester, term or grading period."""

    __tablename__ = "academic_session"

    title: str = Field(max_length=255)
    type: str = Field(max_length=32)
    start_date: date
    end_date: date
    parent_sourced_id: str | None = Field(default=None, max_length=255)
    school_year: str = Field(max_length=4)

    __table_args__ = (sa.Index("ix_academic_session_modified", "tenant_id", "date_last_modified"),)


class Course(RosterBase, table=True):
    """A course offered by an org; classes are its sections."""

    title: str = Field(max_length=255)
    school_year_sourced_id: str | None = Field(default=None, max_length=255)
    course_code: str | None = Field(default=None, max_length=64)
    grades: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    subjects: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    subject_codes: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    org_sourced_id: str = Field(max_length=255)

    __table_args__ = (
        _reference(["org_sourced_id"], "org"),
        sa.Index("ix_course_modified", "tenant_id", "date_last_modified"),
    )


class RosterClass(RosterBase, table=True):
    """A class: a section of a course taught at a school."""

    __tablename__ = "roster_class"

    title: str = Field(max_length=255)
    class_code: str | None = Field(default=None, max_length=64)
    class_type: str = Field(default="scheduled", max_length=16)
    location: str | None = Field(default=None, max_length=255)
    grades: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    subjects: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    subject_codes: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    periods: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    course_sourced_id: str | None = Field(default=None, max_length=255)
    school_sourced_id: str = Field(max_length=255)

    __table_args__ = (
        _reference(["school_sourced_id"], "org"),
        _reference(["course_sourced_id"], "course"),
        sa.Index("ix_roster_class_school", "tenant_id", "school_sourced_id"),
        sa.Index("ix_roster_class_course", "tenant_id", "course_sourced_id"),
        sa.Index("ix_roster_class_modified", "tenant_id", "date_last_modified"),
    )


class ClassTerm(ProfileTable, table=True):
    """A term (academic session) a class runs in: the class's `terms[]`."""

    __tablename__ = "class_term"

    tenant_id: str = Field(primary_key=True, max_length=64)
    class_sourced_id: str = Field(primary_key=True, max_length=255)
    term_sourced_id: str = Field(primary_key=True, max_length=255)

    __table_args__ = (
        _reference(["class_sourced_id"], "roster_class"),
        _reference(["term_sourced_id"], "academic_session"),
        sa.Index("ix_class_term_term", "tenant_id", "term_sourced_id"),
    )


class RosterUser(RosterBase, table=True):
    """A person known to the roster: student, teacher, guardian, administrator..."""

    __tablename__ = "roster_user"

    role: str = Field(max_length=32, index=True, description="The primary role, as in `roles[]`.")
    enabled_user: bool = True
    username: str | None = Field(default=None, max_length=255)
    user_ids: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON_TYPE)
    given_name: str = Field(max_length=255)
    family_name: str = Field(max_length=255)
    middle_name: str | None = Field(default=None, max_length=255)
    preferred_given_name: str | None = Field(default=None, max_length=255)
    preferred_middle_name: str | None = Field(default=None, max_length=255)
    preferred_family_name: str | None = Field(default=None, max_length=255)
    pronouns: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    sms: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=64)
    identifier: str | None = Field(default=None, max_length=255)
    user_master_identifier: str | None = Field(default=None, max_length=255)
    grades: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    primary_org_sourced_id: str | None = Field(default=None, max_length=255)

    __table_args__ = (
        _reference(["primary_org_sourced_id"], "org"),
        sa.Index("ix_roster_user_modified", "tenant_id", "date_last_modified"),
    )


class UserRole(ProfileTable, table=True):
    """One of a user's `roles[]`: a role at an org, primary or secondary."""

    __tablename__ = "user_role"

    tenant_id: str = Field(primary_key=True, max_length=64)
    user_sourced_id: str = Field(primary_key=True, max_length=255)
    org_sourced_id: str = Field(primary_key=True, max_length=255)
    role: str = Field(primary_key=True, max_length=32)
    role_type: str = Field(default="primary", max_length=16)
    user_profile: str | None = Field(default=None, max_length=255)
    begin_date: date | None = None
    end_date: date | None = None

    __table_args__ = (
        _reference(["user_sourced_id"], "roster_user"),
        _reference(["org_sourced_id"], "org"),
        sa.Index("ix_user_role_org", "tenant_id", "org_sourced_id", "role"),
    )


class UserAgent(ProfileTable, table=True):
    """One of a user's `agents[]`: a guardian of a student, or the student of a guardian."""

    __tablename__ = "user_agent"

    tenant_id: str = Field(primary_key=True, max_length=64)
    user_sourced_id: str = Field(primary_key=True, max_length=255)
    agent_sourced_id: str = Field(primary_key=True, max_length=255)

    __table_args__ = (
        _reference(["user_sourced_id"], "roster_user"),
        _reference(["agent_sourced_id"], "roster_user"),
        sa.Index("ix_user_agent_agent", "tenant_id", "agent_sourced_id"),
    )


class Enrollment(RosterBase, table=True):
    """A user's membership of a class in a role (student, teacher...)."""

    class_sourced_id: str = Field(max_length=255)
    user_sourced_id: str = Field(max_length=255)
    school_sourced_id: str | None = Field(default=None, max_length=255)
    role: str = Field(max_length=32)
    primary: bool = False
    begin_date: date | None = None
    end_date: date | None = None

    __table_args__ = (
        _reference(["class_sourced_id"], "roster_class"),
        _reference(["user_sourced_id"], "roster_user"),
        sa.Index("ix_enrollment_user", "tenant_id", "user_sourced_id"),
        sa.Index("ix_enrollment_class", "tenant_id", "class_sourced_id"),
        sa.Index("ix_enrollment_school", "tenant_id", "school_sourced_id"),
        sa.Index("ix_enrollment_modified", "tenant_id", "date_last_modified"),
    )


class Demographics(RosterBase, table=True):
    """A user's demographic record (its `sourcedId` is the user's); needs the demographics scope."""

    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=16)
    american_indian_or_alaska_native: bool | None = None
    asian: bool | None = None
    black_or_african_american: bool | None = None
    native_hawaiian_or_other_pacific_islander: bool | None = None
    white: bool | None = None
    demographic_race_two_or_more_races: bool | None = None
    hispanic_or_latino_ethnicity: bool | None = None
    country_of_birth_code: str | None = Field(default=None, max_length=8)
    state_of_birth_abbreviation: str | None = Field(default=None, max_length=8)
    city_of_birth: str | None = Field(default=None, max_length=255)
    public_school_residence_status: str | None = Field(default=None, max_length=64)

    __table_args__ = (
        _reference(["sourced_id"], "roster_user"),
        sa.Index("ix_demographics_modified", "tenant_id", "date_last_modified"),
    )
