"""The profile service's FastAPI application."""

from fastapi import FastAPI

from kit.application import create_base_app
from kit.http import Mounts
from services.profile_service import (
    import_routes,
    learner_profile_routes,
    oauth_routes,
    oneroster_routes,
    oneroster_write_routes,
)
from services.profile_service.oneroster_errors import install_oneroster_errors
from services.profile_service.routes import router
from services.profile_service.settings import ProfileSettings


def create_app(settings: ProfileSettings | None = None, mounts: Mounts | None = None) -> FastAPI:
    """Build the profile service for `settings` (read from the environment when omitted)."""
    app = create_base_app(
        settings or ProfileSettings(),
        title="plp-profile",
        description="Rosters (OneRoster 1.2), learner profiles, and who may see which learner.",
        mounts=mounts,
    )
    app.include_router(router)
    app.include_router(oauth_routes.router)
    app.include_router(oneroster_routes.router)
    app.include_router(oneroster_write_routes.router)
    app.include_router(import_routes.router)
    app.include_router(learner_profile_routes.router)
    install_oneroster_errors(app)
    return app
