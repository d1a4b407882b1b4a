"""Tenants (districts) and the API clients (partner tools) that act within them."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from kit.db import JSON_TYPE, UtcDateTime
from services.profile_service.db import ProfileTable
from services.profile_service.models.roster import utc_now


class Tenant(ProfileTable, table=True):
    """A district: every roster row and client belongs to one."""

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())


class ApiClient(ProfileTable, table=True):
    """An OAuth 2.0 client (client credentials grant); only a hash of its secret is kept."""

    __tablename__ = "api_client"

    client_id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(max_length=64, foreign_key="tenant.id", index=True)
    name: str | None = Field(default=None, max_length=255)
    secret_hash: str = Field(max_length=255)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON_TYPE)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime())
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime())

    __table_args__ = (sa.Index("ix_api_client_active", "tenant_id", "revoked_at"),)
