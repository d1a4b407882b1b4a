"""The gateway's client of the profile service."""

from typing import Any

from kit.http import ServiceClient, segment


class ProfileClient(ServiceClient):
    """Roster reads on behalf of the caller."""

    async def get_learner(self, token: str, learner_id: str) -> dict[str, Any]:
        """One learner the caller may read."""
        body: dict[str, Any] = await self.get(f"/learners/{segment(learner_id)}", token)
        return body
