"""The per-request GraphQL context: the verified caller and the service clients."""

from dataclasses import dataclass

from fastapi import Request
from strawberry.fastapi import BaseContext

from gateway.clients.pathway import PathwayClient
from gateway.clients.profile import ProfileClient
from gateway.clients.progress import ProgressClient
from kit.auth import Principal, current_principal


@dataclass
class Context(BaseContext):
    """What every resolver reads from `info.context`."""

    principal: Principal
    profile: ProfileClient
    pathway: PathwayClient
    progress: ProgressClient


async def get_context(request: Request) -> Context:
    """Verify the caller (401 without a valid token) and hand out the clients."""
    principal = await current_principal(request)
    state = request.app.state
    return Context(principal=principal, profile=state.profile, pathway=state.pathway, progress=state.progress)
