"""HTTP routes of the pathway service."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from kit.auth import CurrentPrincipal
from kit.learner_access import ReadableLearnerId
from services.pathway_service import planner
from services.pathway_service.clients.progress import ProgressClient
from services.pathway_service.framework import BUILT_IN_FRAMEWORK
from services.pathway_service.schemas import CompetencyPublic, NextStepPublic

router = APIRouter()


@router.get("/learners/{learner_id}/next-steps", tags=["paths"])
async def next_steps(
    learner_id: ReadableLearnerId,
    request: Request,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many steps.")] = 5,
) -> list[NextStepPublic]:
    """The competencies the learner is ready for and has not mastered yet."""
    progress: ProgressClient = request.app.state.progress
    mastered = await progress.mastered_competencies(principal.token, learner_id)
    return [
        NextStepPublic(
            competency=CompetencyPublic(
                id=step.competency.id, title=step.competency.title, prerequisites=list(step.competency.prerequisites)
            ),
            reason=step.reason,
        )
        for step in planner.next_steps(BUILT_IN_FRAMEWORK, mastered, limit)
    ]
