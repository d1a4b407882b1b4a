"""Alembic environment of the progress service."""

import services.progress_service.models  # noqa: F401  (registers the tables)
from kit.migrate import run_env
from services.progress_service.db import metadata
from services.progress_service.settings import ProgressSettings

run_env(metadata, ProgressSettings().resolved_database_url)
