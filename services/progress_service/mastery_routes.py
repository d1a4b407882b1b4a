"""The progress service's own API: mastery per learner, its history, a class's matrix, weekly progress."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from kit.auth import CurrentPrincipal, Principal, require_role
from kit.db import SessionDep
from kit.http import ServiceClient, segment
from kit.identifiers import ClassIdPath
from kit.learner_access import ReadableLearnerId
from kit.pagination import OffsetPageDep, set_page_headers
from services.progress_service import mastery_model, mastery_policies, mastery_reads
from services.progress_service.schemas import (
    ClassMastery,
    MasteryChangePublic,
    MasteryPolicyBody,
    MasteryPolicyPublic,
    MasteryPublic,
    PredictionPublic,
    ProgressSummary,
    Status,
)

router = APIRouter(tags=["mastery"])

CompetencyIds = Annotated[
    list[str], Query(alias="competency", max_length=500, description="Only these competencies (repeatable).")
]
AdminPrincipal = Annotated[Principal, Depends(require_role("admin"))]
FrameworkPath = Annotated[
    str, Path(min_length=1, max_length=255, description="The CASE framework (CFDocument) id; `*` for the default.")
]
CompetencyPath = Annotated[str, Path(min_length=1, max_length=255, description="The competency (CASE item) id.")]


@router.get("/learners/{learner_id}/mastery")
async def learner_mastery(
    learner_id: ReadableLearnerId,
    session: SessionDep,
    principal: CurrentPrincipal,
    competency: CompetencyIds = [],  # noqa: B006  (FastAPI copies query defaults)
    status: Annotated[list[Status], Query(max_length=3, description="Only these statuses (repeatable).")] = [],  # noqa: B006
) -> list[MasteryPublic]:
    """Every competency estimate of a learner the caller may read (filterable)."""
    rows = await mastery_reads.list_mastery(session, principal.tenant_id, learner_id, competency, status)
    return [MasteryPublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/learners/{learner_id}/mastery/{competency_id}/history")
async def learner_mastery_history(
    learner_id: ReadableLearnerId,
    competency_id: CompetencyPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: OffsetPageDep,
) -> list[MasteryChangePublic]:
    """How one estimate moved, oldest first, a page at a time (`X-Total-Count`, `Link`)."""
    rows, total = await mastery_reads.mastery_history(session, principal.tenant_id, learner_id, competency_id, page)
    set_page_headers(request, response, page, total)
    return [MasteryChangePublic.model_validate(row, from_attributes=True) for row in rows]


@router.get("/learners/{learner_id}/mastery/{competency_id}/prediction")
async def learner_prediction(
    learner_id: ReadableLearnerId, competency_id: CompetencyPath, session: SessionDep, principal: CurrentPrincipal
) -> PredictionPublic:
    """P(the learner's next response on the competency is correct) under the fitted model, term by term."""
    p_correct, terms = await mastery_model.predict(session, principal.tenant_id, learner_id, competency_id)
    return PredictionPublic(competency_id=competency_id, p_correct=p_correct, terms=terms)


@router.get("/learners/{learner_id}/progress")
async def learner_progress(
    learner_id: ReadableLearnerId, session: SessionDep, principal: CurrentPrincipal
) -> ProgressSummary:
    """The learner's week: competencies mastered, streak of active days, minutes on task."""
    today = datetime.now(UTC).date()
    since = mastery_reads.week_start(today)
    tenant_id = principal.tenant_id
    days = await mastery_reads.activity_days(session, tenant_id, learner_id, today)
    return ProgressSummary(
        mastered_this_week=await mastery_reads.mastered_since(session, tenant_id, learner_id, since),
        active_day_streak=mastery_reads.streak(days, today),
        minutes_this_week=round(await mastery_reads.seconds_since(session, tenant_id, learner_id, since) / 60, 1),
    )


@router.get("/classes/{class_id}/mastery")
async def class_mastery(
    class_id: ClassIdPath,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    competency: CompetencyIds = [],  # noqa: B006
) -> ClassMastery:
    """The class's learners x competencies matrix, for learners the caller may read (404 when none)."""
    profile: ServiceClient = request.app.state.profile
    learners: list[str] = await profile.get(f"/authz/classes/{segment(class_id)}/learners", principal.token)
    rows = await mastery_reads.class_matrix(session, principal.tenant_id, learners, competency)
    return mastery_reads.matrix_of(learners, list(dict.fromkeys(competency)), rows)


@router.put("/frameworks/{framework_id}/mastery-policy", tags=["mastery policy"])
async def put_mastery_policy(
    framework_id: FrameworkPath, body: MasteryPolicyBody, session: SessionDep, principal: AdminPrincipal
) -> MasteryPolicyPublic:
    """Judge the framework's competencies by BKT or a gradebook rule from now on (admins; `*` = tenant default)."""
    row = await mastery_policies.set_policy(session, principal.tenant_id, framework_id, body)
    return MasteryPolicyPublic.model_validate(row, from_attributes=True)


@router.get("/frameworks/{framework_id}/mastery-policy", tags=["mastery policy"])
async def get_mastery_policy(
    framework_id: FrameworkPath, session: SessionDep, principal: CurrentPrincipal
) -> MasteryPolicyPublic:
    """The framework's policy (or the tenant default's; BKT when none is set)."""
    row = await mastery_policies.get_policy(session, principal.tenant_id, framework_id)
    return MasteryPolicyPublic.model_validate(row, from_attributes=True)
