"""HTTP routes of the progress service."""

from typing import Annotated

from fastapi import APIRouter, Body

from kit.auth import CurrentPrincipal
from kit.db import SessionDep
from kit.learner_access import ReadableLearnerId
from kit.payloads import OneOrMany, as_list
from services.progress_service import service
from services.progress_service.schemas import MasteryPublic, StatementIn

router = APIRouter()


@router.post("/statements", tags=["statements"])
async def record_statements(
    body: Annotated[OneOrMany[StatementIn], Body(description="One xAPI statement or a list of them.")],
    session: SessionDep,
    principal: CurrentPrincipal,
) -> list[str]:
    """Store statements (all or none) and update mastery; returns the statement ids in order."""
    return await service.record_statements(session, principal, as_list(body))


@router.get("/learners/{learner_id}/mastery", tags=["mastery"])
async def learner_mastery(
    learner_id: ReadableLearnerId, session: SessionDep, principal: CurrentPrincipal
) -> list[MasteryPublic]:
    """Every competency estimate of a learner the caller may read."""
    rows = await service.list_mastery(session, principal.tenant_id, learner_id)
    return [MasteryPublic.model_validate(row, from_attributes=True) for row in rows]
