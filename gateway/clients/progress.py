"""The gateway's client of the progress service."""

from typing import Any

from kit.http import ServiceClient, segment


class ProgressClient(ServiceClient):
    """Mastery reads and statement writes on behalf of the caller."""

    async def mastery(self, token: str, learner_id: str) -> list[dict[str, Any]]:
        """Every mastery estimate of the learner."""
        body: list[dict[str, Any]] = await self.get(f"/learners/{segment(learner_id)}/mastery", token)
        return body
