"""Learner profiles (goals, interests, strengths, needs, accommodations, preferences, consent) and their history.

Field values are stored in their wire form (camelCase keys, ISO dates), so history entries are
served as they were written.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import BIGINT_ID, JSON_TYPE, UtcDateTime
from services.profile_service.db import ProfileTable
from services.profile_service.models.roster import utc_now


def _learner_reference() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "learner_sourced_id"], ["roster_user.tenant_id", "roster_user.sourced_id"]
    )


class LearnerProfile(ProfileTable, table=True):
    """One learner's profile; `version` grows by one with every change (the `ETag`)."""

    __tablename__ = "learner_profile"

    tenant_id: str = Field(primary_key=True, max_length=64)
    learner_sourced_id: str = Field(primary_key=True, max_length=255)
    version: int = 0
    goals: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON_TYPE)
    interests: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    strengths: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    needs: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    accommodations: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)
    preferred_modalities: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    language: str | None = Field(default=None, max_length=64)
    weekly_time_budget_minutes: int | None = None
    sharing: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)
    guardian_consent: bool = False
    field_changes: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON_TYPE, description="Per field: changedBy, changedByRole, changedAt."
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())

    __table_args__ = (_learner_reference(),)


class LearnerProfileChange(ProfileTable, table=True):
    """One change of one profile field: who, as what, when, and the values (gone once erased)."""

    __tablename__ = "learner_profile_change"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIGINT_ID, sa_column_kwargs={"autoincrement": True})
    tenant_id: str = Field(max_length=64)
    learner_sourced_id: str = Field(max_length=255)
    version: int = Field(description="The profile version this change produced.")
    field: str = Field(max_length=64)
    old_value: Any = Field(default=None, sa_type=JSON_TYPE, nullable=True)
    new_value: Any = Field(default=None, sa_type=JSON_TYPE, nullable=True)
    values_erased: bool = False
    changed_by: str = Field(max_length=255)
    changed_by_role: str = Field(max_length=16)
    changed_at: datetime = Field(sa_type=UtcDateTime())

    __table_args__ = (
        _learner_reference(),
        sa.Index("ix_learner_profile_change_learner", "tenant_id", "learner_sourced_id", "id"),
    )
