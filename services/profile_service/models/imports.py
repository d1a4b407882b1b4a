"""Tracked OneRoster CSV import jobs."""

from datetime import datetime
from typing import Any

from sqlmodel import Field

from kit.db import JSON_TYPE, UtcDateTime
from services.profile_service.db import ProfileTable
from services.profile_service.models.roster import utc_now


class ImportJob(ProfileTable, table=True):
    """One OneRoster CSV zip being (or having been) imported into a tenant."""

    __tablename__ = "import_job"

    id: str = Field(primary_key=True, max_length=36)
    tenant_id: str = Field(max_length=64, index=True)
    filename: str = Field(max_length=255)
    state: str = Field(default="queued", max_length=16)
    created_by: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())
    started_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime())
    progress: float = 0.0
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=JSON_TYPE)
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON_TYPE)
    error_count: int = 0
    detail: str | None = Field(default=None, max_length=2000)
