"""xAPI documents (state, activity profiles, agent profiles) and the canonical activity definitions.

Documents are opaque bytes with the Content-Type they were stored with; `etag` is kept with
the content so conditional requests compare without rehashing. Agents are keyed by their
inverse functional identifier (`agent_ifi`, e.g. `account:<homePage>|<name>`), so the same
learner named with a different `name` or `objectType` finds the same documents.
"""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import JSON_TYPE, UtcDateTime
from services.progress_service.db import ProgressTable

TIMESTAMP = UtcDateTime()


class DocumentContent(ProgressTable):
    """The columns every document kind has besides its key."""

    content: bytes = Field(sa_type=sa.LargeBinary())
    content_type: str = Field(max_length=255)
    etag: str = Field(max_length=64, description="The quoted SHA-1 hex digest of `content`.")
    updated_at: datetime = Field(sa_type=TIMESTAMP)


class StateDocument(DocumentContent, table=True):
    """A document an activity keeps for one agent, optionally within one registration."""

    __tablename__ = "state_document"

    tenant_id: str = Field(primary_key=True, max_length=64)
    activity_id: str = Field(primary_key=True, max_length=2048)
    agent_ifi: str = Field(primary_key=True, max_length=1024)
    registration: str = Field(primary_key=True, max_length=36, description="`''` when stored without one.")
    state_id: str = Field(primary_key=True, max_length=255)


class ActivityProfileDocument(DocumentContent, table=True):
    """A document about an activity, shared by every agent."""

    __tablename__ = "activity_profile_document"

    tenant_id: str = Field(primary_key=True, max_length=64)
    activity_id: str = Field(primary_key=True, max_length=2048)
    profile_id: str = Field(primary_key=True, max_length=255)


class AgentProfileDocument(DocumentContent, table=True):
    """A document about an agent, across activities."""

    __tablename__ = "agent_profile_document"

    tenant_id: str = Field(primary_key=True, max_length=64)
    agent_ifi: str = Field(primary_key=True, max_length=1024)
    profile_id: str = Field(primary_key=True, max_length=255)


class ActivityDefinition(ProgressTable, table=True):
    """The canonical definition of an activity, merged from the statements that named it."""

    __tablename__ = "activity_definition"

    tenant_id: str = Field(primary_key=True, max_length=64)
    activity_id: str = Field(primary_key=True, max_length=2048)
    definition: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)
    updated_at: datetime = Field(sa_type=TIMESTAMP)
