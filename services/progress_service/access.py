"""Caller-scoped rules of the progress service: who may write and read whose evidence and documents.

API clients (role `partner`) act within their tenant as their xAPI scopes allow. A learner's
own token acts for the learner: an agent whose account `name` is the learner's sourcedId.
Teachers, guardians and admins read the statements and mastery of the learners the profile
service says they may read.
"""

from collections.abc import Sequence
from typing import Any

from kit.auth import Principal
from kit.errors import ForbiddenError
from kit.learner_access import LearnerAccess
from services.progress_service.xapi_auth import STATEMENTS_READ, STATEMENTS_READ_MINE, STATEMENTS_WRITE


def require_scope(principal: Principal, scopes: frozenset[str], what: str) -> None:
    """Refuse an API client that holds none of `scopes` (user tokens are judged by their roles instead)."""
    if principal.has_role("partner") and not principal.has_scope(*scopes):
        raise ForbiddenError(f"{what} requires one of the scopes {', '.join(sorted(scopes))}.")


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


def check_may_write_statements(principal: Principal, statements: Sequence[dict[str, Any]]) -> None:
    """API clients with a write scope write for anyone in their tenant; learners only about themselves."""
    if principal.has_role("partner"):
        require_scope(principal, STATEMENTS_WRITE, "Recording statements")
        return
    if principal.has_role("learner") and all(is_self_agent(principal, s["actor"]) for s in statements):
        return
    raise ForbiddenError("You may record statements only about yourself.", field="actor")


async def statement_visibility(principal: Principal, access: LearnerAccess) -> tuple[frozenset[str] | None, str | None]:
    """Whose statements the caller reads: (learners, or None for all; credential, or None for any)."""
    if principal.has_role("partner"):
        if principal.has_scope(*STATEMENTS_READ):
            return None, None
        if principal.has_scope(*STATEMENTS_READ_MINE):
            return None, principal.sub
        raise ForbiddenError("Reading statements requires statements/read, statements/read/mine or all/read.")
    if principal.roles == {"learner"}:
        return frozenset({principal.sub}), None
    return await access.readable_learners(principal), None
