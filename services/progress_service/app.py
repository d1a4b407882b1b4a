"""The progress service's FastAPI application."""

from fastapi import FastAPI

from kit.application import create_base_app
from kit.http import Mounts, ServiceClient
from kit.learner_access import LearnerAccess
from services.progress_service import mastery_routes, statement_routes, xapi_document_routes
from services.progress_service.learner_directory import LearnerDirectory
from services.progress_service.settings import ProgressSettings
from services.progress_service.xapi_alternate import AlternateRequestMiddleware
from services.progress_service.xapi_auth import BasicCredentials
from services.progress_service.xapi_protocol import XapiVersionHeaderMiddleware


def create_app(settings: ProgressSettings | None = None, mounts: Mounts | None = None) -> FastAPI:
    """Build the progress service for `settings` (read from the environment when omitted)."""
    settings = settings or ProgressSettings()
    app = create_base_app(
        settings,
        title="plp-progress",
        description="An xAPI Learning Record Store (1.0.3 and 2.0) and the mastery estimates derived from it.",
        mounts=mounts,
    )
    app.state.profile = ServiceClient(app.state.http, settings.profile_url, "profile")
    app.state.learner_access = LearnerAccess(app.state.profile)
    app.state.learner_directory = LearnerDirectory(app.state.profile)
    app.state.basic_credentials = BasicCredentials(app.state.http, settings.profile_url, app.state.token_verifier)
    app.include_router(statement_routes.router)
    app.include_router(xapi_document_routes.router)
    app.include_router(mastery_routes.router)
    # Outermost last: alternate-syntax requests are rewritten before the version header is read.
    app.add_middleware(XapiVersionHeaderMiddleware)
    app.add_middleware(AlternateRequestMiddleware)
    return app
