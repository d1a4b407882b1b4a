"""The per-request GraphQL context: the verified caller and the service clients."""

from dataclasses import dataclass

from fastapi import Request
from strawberry.fastapi import BaseContext

from gateway.clients.pathway import PathwayClient
from gateway.clients.profile import ProfileClient
from gateway.clients.progress import ProgressClient
from kit.auth import Principal, current_principal
from kit.errors import UnauthorizedError


@dataclass
class Context(BaseContext):
    """What every resolver reads from `info.context`."""

    caller: Principal | None
    profile: ProfileClient
    pathway: PathwayClient
    progress: ProgressClient

    @property
    def principal(self) -> Principal:
        """The verified caller (every operation has one; only the GraphiQL page goes without)."""
        if self.caller is None:
            raise UnauthorizedError("A bearer token is required.")
        return self.caller


def _asks_for_graphiql(request: Request) -> bool:
    return (
        request.method == "GET"
        and request.app.state.settings.dev
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    )


async def get_context(request: Request) -> Context:
    """Verify the caller (401 without a valid token, except for the dev GraphiQL page)."""
    caller = None if _asks_for_graphiql(request) else await current_principal(request)
    state = request.app.state
    return Context(caller=caller, profile=state.profile, pathway=state.pathway, progress=state.progress)
