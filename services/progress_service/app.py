"""The progress service's FastAPI application."""

from fastapi import FastAPI

from kit.application import create_base_app
from kit.http import Mounts, ServiceClient
from kit.learner_access import LearnerAccess
from services.progress_service.routes import router
from services.progress_service.settings import ProgressSettings


def create_app(settings: ProgressSettings | None = None, mounts: Mounts | None = None) -> FastAPI:
    """Build the progress service for `settings` (read from the environment when omitted)."""
    settings = settings or ProgressSettings()
    app = create_base_app(
        settings,
        title="plp-progress",
        description="xAPI statements and the mastery estimates derived from them.",
        mounts=mounts,
    )
    app.state.learner_access = LearnerAccess(ServiceClient(app.state.http, settings.profile_url, "profile"))
    app.include_router(router)
    return app
