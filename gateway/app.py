"""The gateway's FastAPI application: `/graphql` over the three services."""

from fastapi import FastAPI
from strawberry.fastapi import GraphQLRouter

from gateway.clients.pathway import PathwayClient
from gateway.clients.profile import ProfileClient
from gateway.clients.progress import ProgressClient
from gateway.context import get_context
from gateway.schema import build_schema
from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.http import Mounts


def create_app(settings: GatewaySettings | None = None, mounts: Mounts | None = None) -> FastAPI:
    """Build the gateway for `settings` (read from the environment when omitted)."""
    settings = settings or GatewaySettings()
    app = create_base_app(
        settings,
        title="plp-gateway",
        description="One GraphQL API over the profile, pathway and progress services.",
        mounts=mounts,
    )
    http = app.state.http
    app.state.profile = ProfileClient(http, settings.profile_url, "profile")
    app.state.pathway = PathwayClient(http, settings.pathway_url, "pathway")
    app.state.progress = ProgressClient(http, settings.progress_url, "progress")
    graphql = GraphQLRouter(
        build_schema(dev=settings.dev),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.dev else None,
    )
    app.include_router(graphql, prefix="/graphql")
    return app
