"""GraphQL types of the learner domain."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from gateway.context import Context


@strawberry.type(description="A competency of a framework.")
class Competency:
    id: strawberry.ID
    title: str


@strawberry.type(description="A competency the learner is ready to work on next, and why.")
class NextStep:
    competency: Competency
    reason: str = strawberry.field(description="Reason code, e.g. `ready_to_learn`.")


@strawberry.type(description="A learner on the roster.")
class Learner:
    id: strawberry.ID = strawberry.field(description="The learner's roster sourcedId.")
    given_name: str
    family_name: str
    grades: list[str]

    @strawberry.field(
        description="What the learner is ready to work on next; null, with an error, when it cannot be computed."
    )
    async def next_steps(
        self,
        info: Info[Context, None],
        first: Annotated[int, strawberry.argument(description="At most this many steps (1-50).")] = 5,
    ) -> list[NextStep] | None:
        context = info.context
        steps = await context.pathway.next_steps(context.principal.token, str(self.id), max(1, min(first, 50)))
        return [
            NextStep(
                competency=Competency(id=strawberry.ID(s["competency"]["id"]), title=s["competency"]["title"]),
                reason=s["reason"],
            )
            for s in steps
        ]

    @classmethod
    def from_roster(cls, body: dict[str, Any]) -> "Learner":
        """Build from the profile service's learner body."""
        return cls(
            id=strawberry.ID(body["sourcedId"]),
            given_name=body["givenName"],
            family_name=body["familyName"],
            grades=list(body.get("grades", [])),
        )
