"""Learner queries."""

import strawberry
from strawberry.types import Info

from gateway.context import Context
from gateway.learners.types import Learner


@strawberry.type
class LearnerQueries:
    @strawberry.field(description="One learner the caller may read (null with a NOT_FOUND error otherwise).")
    async def learner(self, info: Info[Context, None], id: strawberry.ID) -> Learner | None:  # noqa: A002
        context = info.context
        body = await context.profile.get_learner(context.principal.token, str(id))
        return Learner.from_roster(body)
