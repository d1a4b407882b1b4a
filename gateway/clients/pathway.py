"""The gateway's client of the pathway service."""

from typing import Any

from kit.http import ServiceClient, segment


class PathwayClient(ServiceClient):
    """Path reads on behalf of the caller."""

    async def next_steps(self, token: str, learner_id: str, limit: int) -> list[dict[str, Any]]:
        """The learner's next steps."""
        body: list[dict[str, Any]] = await self.get(
            f"/learners/{segment(learner_id)}/next-steps", token, params={"limit": str(limit)}
        )
        return body
