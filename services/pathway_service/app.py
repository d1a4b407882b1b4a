"""The pathway service's FastAPI application."""

from fastapi import FastAPI

from kit.application import create_base_app
from kit.http import Mounts, ServiceClient
from kit.learner_access import LearnerAccess
from services.pathway_service.clients.progress import ProgressClient
from services.pathway_service.routes import router
from services.pathway_service.settings import PathwaySettings


def create_app(settings: PathwaySettings | None = None, mounts: Mounts | None = None) -> FastAPI:
    """Build the pathway service for `settings` (read from the environment when omitted)."""
    settings = settings or PathwaySettings()
    app = create_base_app(
        settings,
        title="plp-pathway",
        description="Competency frameworks, the activity catalog, and each learner's path.",
        mounts=mounts,
    )
    app.state.learner_access = LearnerAccess(ServiceClient(app.state.http, settings.profile_url, "profile"))
    app.state.progress = ProgressClient(app.state.http, settings.progress_url, "progress")
    app.include_router(router)
    return app
