"""Mastery estimates per learner and competency, their history, and how they are computed."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import BIGINT_ID, JSON_TYPE, UtcDateTime
from services.progress_service.db import ProgressTable

TIMESTAMP = UtcDateTime()


class Mastery(ProgressTable, table=True):
    """The current estimate that a learner has mastered a competency, with the model's state for the next update."""

    tenant_id: str = Field(primary_key=True, max_length=64)
    learner_id: str = Field(primary_key=True, max_length=255)
    competency_id: str = Field(primary_key=True, max_length=255)
    framework_id: str = Field(default="*", max_length=255, description="`*` when the framework is not known.")
    estimate: float
    evidence_count: int = 0
    status: str = Field(max_length=16)
    last_evidence_at: datetime | None = Field(default=None, sa_type=TIMESTAMP)
    state: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)

    # On PostgreSQL the migration leaves room on each page (fillfactor 70), so an estimate is updated in place
    # (a HOT update, no index write): estimates change with every response, their keys never.


class MasteryChange(ProgressTable, table=True):
    """One update of an estimate, caused by one statement (the history a learner and teacher can read)."""

    __tablename__ = "mastery_change"

    seq: int | None = Field(default=None, sa_type=BIGINT_ID, primary_key=True)
    tenant_id: str = Field(max_length=64)
    learner_id: str = Field(max_length=255)
    competency_id: str = Field(max_length=255)
    statement_id: str = Field(max_length=36)
    correct: bool
    score: float | None = Field(default=None, description="`result.score.scaled`, when the statement had one.")
    expected: float = Field(description="P(correct) the competency's model gave this response before it was seen.")
    old_estimate: float
    estimate: float
    status: str = Field(max_length=16)
    at: datetime = Field(sa_type=TIMESTAMP)

    __table_args__ = (sa.Index("ix_mastery_change_learner", "tenant_id", "learner_id", "competency_id", "seq"),)


class CompetencyModel(ProgressTable, table=True):
    """Fitted model parameters of one competency (`plp mastery fit`), with the fit's quality."""

    __tablename__ = "competency_model"

    tenant_id: str = Field(primary_key=True, max_length=64)
    competency_id: str = Field(primary_key=True, max_length=255)
    params: dict[str, Any] = Field(sa_type=JSON_TYPE)
    log_likelihood: float
    responses: int
    fitted_at: datetime = Field(sa_type=TIMESTAMP)


class MasteryPolicy(ProgressTable, table=True):
    """How a framework's competencies are judged: `bkt` or a gradebook rule, with its options.

    Framework `*` is the tenant's default.
    """

    __tablename__ = "mastery_policy"

    tenant_id: str = Field(primary_key=True, max_length=64)
    framework_id: str = Field(primary_key=True, max_length=255)
    method: str = Field(max_length=32)
    options: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)
    updated_at: datetime = Field(sa_type=TIMESTAMP)
