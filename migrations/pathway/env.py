"""Alembic environment of the pathway service."""

import services.pathway_service.models  # noqa: F401  (registers the tables)
from kit.migrate import run_env
from services.pathway_service.db import metadata
from services.pathway_service.settings import PathwaySettings

run_env(metadata, PathwaySettings().resolved_database_url)
