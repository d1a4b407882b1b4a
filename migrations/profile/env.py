"""Alembic environment of the profile service."""

import services.profile_service.models  # noqa: F401  (registers the tables)
from kit.migrate import run_env
from services.profile_service.db import metadata
from services.profile_service.settings import ProfileSettings

run_env(metadata, ProfileSettings().resolved_database_url)
