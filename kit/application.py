"""The common frame of every app: logging, errors, request ids, identity, HTTP client, health."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from kit.auth import TokenVerifier
from kit.db import create_engine, make_sessionmaker
from kit.errors import install_error_handlers
from kit.health import ReadinessCheck, database_checks, health_router
from kit.http import Mounts, make_client
from kit.logging import configure_logging
from kit.migrate import head_revision
from kit.request_context import RequestContextMiddleware
from kit.settings import AppSettings, ServiceSettings


def create_base_app(
    settings: AppSettings,
    *,
    title: str,
    description: str,
    mounts: Mounts | None = None,
    readiness: dict[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """A FastAPI app with the shared frame; a `ServiceSettings` also gets its database.

    `app.state` carries `settings`, `token_verifier`, `http` (outgoing client) and, for
    services, `engine` and `sessionmaker`. The lifespan closes them.
    """
    configure_logging(title, settings.log_level)
    checks = dict(readiness or {})
    engine = None
    if isinstance(settings, ServiceSettings):
        engine = create_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
        checks = {**database_checks(head_revision(settings.service_name)), **checks}
    http = make_client(settings.http_timeout_seconds, mounts)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await http.aclose()
            if engine is not None:
                await engine.dispose()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.token_verifier = TokenVerifier.from_settings(settings)
    app.state.http = http
    if engine is not None:
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware, app_name=title)
    app.include_router(health_router(checks))
    return app
