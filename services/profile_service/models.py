"""Roster tables, shaped after OneRoster 1.2; keys are `(tenant_id, sourced_id)`."""

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
    """A district, school or other organisation."""

    name: str = Field(max_length=255)
    type: str = Field(max_length=32)
    identifier: str | None = Field(default=None, max_length=255)
    parent_sourced_id: str | None = Field(default=None, max_length=255)

    __table_args__ = (sa.ForeignKeyConstraint(["tenant_id", "parent_sourced_id"], ["org.tenant_id", "org.sourced_id"]),)


class RosterUser(RosterBase, table=True):
    """A person known to the roster: student, teacher, guardian, administrator."""

    __tablename__ = "roster_user"

    role: str = Field(max_length=32, index=True)
    username: str | None = Field(default=None, max_length=255)
    given_name: str = Field(max_length=255)
    family_name: str = Field(max_length=255)
    email: str | None = Field(default=None, max_length=320)
    identifier: str | None = Field(default=None, max_length=255)
    grades: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    primary_org_sourced_id: str | None = Field(default=None, max_length=255)

    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "primary_org_sourced_id"], ["org.tenant_id", "org.sourced_id"]),
    )


class RosterClass(RosterBase, table=True):
    """A class: a section of a course taught at a school."""

    __tablename__ = "roster_class"

    title: str = Field(max_length=255)
    class_code: str | None = Field(default=None, max_length=64)
    school_sourced_id: str = Field(max_length=255)

    __table_args__ = (sa.ForeignKeyConstraint(["tenant_id", "school_sourced_id"], ["org.tenant_id", "org.sourced_id"]),)


class Enrollment(RosterBase, table=True):
    """A user's membership of a class in a role (student, teacher...)."""

    class_sourced_id: str = Field(max_length=255)
    user_sourced_id: str = Field(max_length=255)
    role: str = Field(max_length=32)
    primary: bool = False
    begin_date: date | None = None
    end_date: date | None = None

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "class_sourced_id"], ["roster_class.tenant_id", "roster_class.sourced_id"]
        ),
        sa.ForeignKeyConstraint(["tenant_id", "user_sourced_id"], ["roster_user.tenant_id", "roster_user.sourced_id"]),
        sa.Index("ix_enrollment_user", "tenant_id", "user_sourced_id"),
        sa.Index("ix_enrollment_class", "tenant_id", "class_sourced_id"),
    )


class GuardianLink(ProfileTable, table=True):
    """A guardian's link to a learner (OneRoster `agentSourcedIds`)."""

    __tablename__ = "guardian_link"

    tenant_id: str = Field(primary_key=True, max_length=64)
    guardian_sourced_id: str = Field(primary_key=True, max_length=255)
    learner_sourced_id: str = Field(primary_key=True, max_length=255)

    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["tenant_id", "guardian_sourced_id"], ["roster_user.tenant_id", "roster_user.sourced_id"]
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "learner_sourced_id"], ["roster_user.tenant_id", "roster_user.sourced_id"]
        ),
        sa.Index("ix_guardian_link_learner", "tenant_id", "learner_sourced_id"),
    )
