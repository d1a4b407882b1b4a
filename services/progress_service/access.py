"""Caller-scoped rules of the progress service: who may write and read whose evidence and documents.

API clients (role `partner`) act within their tenant as their xAPI scopes allow. A learner's
own token acts for the learner: an agent whose account `name` is the learner's sourcedId.
Teachers, guardians and admins read the statements and mastery of the learners the profile
service says they may read.
"""

from typing import Any

from kit.auth import Principal
from kit.errors import ForbiddenError
from services.progress_service.xapi_auth import require_scope


def is_self_agent(principal: Principal, agent: Any) -> bool:
    """Whether `agent` (parsed xAPI Agent JSON) is the calling learner: account name = their sourcedId."""
    if not principal.has_role("learner") or not isinstance(agent, dict):
        return False
    account = agent.get("account")
    return isinstance(account, dict) and account.get("name") == principal.sub


def check_agent_document_access(principal: Principal, agent: Any, scopes: frozenset[str], what: str) -> None:
    """Admit an API client with one of `scopes`, or the learner the agent is; refuse anyone else."""
    if principal.has_role("partner"):
        require_scope(principal, scopes, what)
        return
    if not is_self_agent(principal, agent):
        raise ForbiddenError(f"{what} is open to API clients and to the learner the agent is.", field="agent")


def check_client_scope(principal: Principal, scopes: frozenset[str], what: str) -> None:
    """Admit only API clients holding one of `scopes`."""
    if not principal.has_role("partner"):
        raise ForbiddenError(f"{what} is open to API clients only.")
    require_scope(principal, scopes, what)
