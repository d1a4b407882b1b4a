"""Statements (append-only evidence) and mastery estimates per learner and competency."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import JSON_TYPE, UtcDateTime
from services.progress_service.db import ProgressTable

TIMESTAMP = UtcDateTime()


class Statement(ProgressTable, table=True):
    """One stored xAPI statement; never updated."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=36)
    learner_id: str | None = Field(default=None, max_length=255)
    verb_id: str = Field(max_length=2048)
    object_id: str = Field(max_length=2048)
    success: bool | None = None
    score_scaled: float | None = None
    timestamp: datetime = Field(sa_type=TIMESTAMP)
    stored: datetime = Field(sa_type=TIMESTAMP)
    body: dict[str, Any] = Field(sa_type=JSON_TYPE)

    __table_args__ = (sa.Index("ix_statement_learner", "tenant_id", "learner_id", "stored"),)


class Mastery(ProgressTable, table=True):
    """The current estimate that a learner has mastered a competency."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(primary_key=True, max_length=255)
    competency_id: str = Field(primary_key=True, max_length=255)
    estimate: float
    evidence_count: int = 0
    status: str = Field(max_length=16)
    last_evidence_at: datetime = Field(sa_type=TIMESTAMP)
