"""Stored xAPI statements (append-only) and the index rows their query filters use."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import JSON_TEXT_TYPE, UtcDateTime
from services.progress_service.db import ProgressTable

TIMESTAMP = UtcDateTime()


class Statement(ProgressTable, table=True):
    """One stored statement: the exact JSON as stored, plus the columns queries filter on.

    `(stored, id)` orders statements and keys `more` cursors; `voided` is the one column ever
    changed after insert (set when a voiding statement arrives), the body never is.
    """

    tenant_id: str = Field(primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=36)
    learner_id: str | None = Field(default=None, max_length=255)
    verb_id: str = Field(max_length=2048)
    registration: str | None = Field(default=None, max_length=36)
    statement_ref: str | None = Field(default=None, max_length=36)
    voiding: bool = False
    voided: bool = False
    credential: str = Field(max_length=255, description="The `sub` of the credentials that stored it.")
    has_attachments: bool = False
    timestamp: datetime = Field(sa_type=TIMESTAMP)
    stored: datetime = Field(sa_type=TIMESTAMP)
    body: dict[str, Any] = Field(sa_type=JSON_TEXT_TYPE)

    __table_args__ = (
        sa.Index("ix_statement_tenant_stored", "tenant_id", "stored", "id"),
        sa.Index("ix_statement_learner", "tenant_id", "learner_id", "stored"),
        sa.Index("ix_statement_verb", "tenant_id", "verb_id", "stored"),
        sa.Index(
            "ix_statement_registration",
            "tenant_id",
            "registration",
            postgresql_where=sa.text("registration IS NOT NULL"),
            sqlite_where=sa.text("registration IS NOT NULL"),
        ),
        sa.Index(
            "ix_statement_statement_ref",
            "tenant_id",
            "statement_ref",
            postgresql_where=sa.text("statement_ref IS NOT NULL"),
            sqlite_where=sa.text("statement_ref IS NOT NULL"),
        ),
    )


class StatementAgent(ProgressTable, table=True):
    """An agent or identified group a statement names: `direct` as actor/object, else only related."""

    __tablename__ = "statement_agent"

    tenant_id: str = Field(primary_key=True, max_length=64)
    ifi: str = Field(primary_key=True, max_length=1024)
    statement_id: str = Field(primary_key=True, max_length=36)
    direct: bool


class StatementActivity(ProgressTable, table=True):
    """An activity a statement names: `direct` as its object, else only in its context or sub-statement."""

    __tablename__ = "statement_activity"

    tenant_id: str = Field(primary_key=True, max_length=64)
    activity_id: str = Field(primary_key=True, max_length=2048)
    statement_id: str = Field(primary_key=True, max_length=36)
    direct: bool


class StatementAttachment(ProgressTable, table=True):
    """The content of an attachment sent with statements, stored once per tenant and hash."""

    __tablename__ = "statement_attachment"

    tenant_id: str = Field(primary_key=True, max_length=64)
    sha2: str = Field(primary_key=True, max_length=128)
    content_type: str = Field(max_length=255)
    content: bytes = Field(sa_type=sa.LargeBinary())
