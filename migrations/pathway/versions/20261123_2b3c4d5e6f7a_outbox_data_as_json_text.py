"""outbox data as JSON text

Revision ID: 2b3c4d5e6f7a
Revises: 1cb1054327d8
Create Date: 2026-11-23 15:55:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "2b3c4d5e6f7a"
down_revision: str | None = "1cb1054327d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Event data is written once and read whole by the relay: PostgreSQL's json (text) costs less to write than jsonb.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("outbox", "data", type_=sa.JSON(), existing_type=postgresql.JSONB(), postgresql_using="data::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("outbox", "data", type_=postgresql.JSONB(), existing_type=sa.JSON(), postgresql_using="data::jsonb")
