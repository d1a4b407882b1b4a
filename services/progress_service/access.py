"""Caller-scoped rules of the progress service: who may write and read whose evidence."""

from kit.auth import Principal
from kit.errors import ForbiddenError

STATEMENTS_WRITE_SCOPES = ("statements/write", "all")


def check_may_write_for(principal: Principal, learner_id: str | None) -> None:
    """Partners with a write scope write for their tenant; learners only for themselves."""
    if principal.has_role("partner") and principal.has_scope(*STATEMENTS_WRITE_SCOPES):
        return
    if principal.has_role("learner") and learner_id == principal.sub:
        return
    raise ForbiddenError("You may not record statements for this actor.", field="actor")
