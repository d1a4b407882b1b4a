"""The pathway service's client of the progress service."""

from kit.http import ServiceClient, segment


class ProgressClient(ServiceClient):
    """Reads mastery from the progress service with the caller's token."""

    async def mastered_competencies(self, token: str, learner_id: str) -> set[str]:
        """Ids of the competencies the learner has mastered."""
        rows = await self.get(f"/learners/{segment(learner_id)}/mastery", token)
        return {row["competencyId"] for row in rows if row["status"] == "mastered"}
