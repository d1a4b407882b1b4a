"""HTTP routes of the profile service: thin wrappers over `service`."""

from fastapi import APIRouter, Request, Response, status

from kit.auth import CurrentPrincipal
from kit.db import SessionDep
from kit.identifiers import ClassIdPath, LearnerIdPath
from kit.pagination import OffsetPageDep, set_page_headers
from services.profile_service import service
from services.profile_service.schemas import (
    LearnerCreate,
    LearnerLookup,
    LearnerLookupResult,
    LearnerPublic,
    LearnerRelation,
)

router = APIRouter()


@router.post("/learners", status_code=status.HTTP_201_CREATED, tags=["learners"])
async def create_learner(body: LearnerCreate, session: SessionDep, principal: CurrentPrincipal) -> LearnerPublic:
    """Add a learner to the caller's tenant."""
    learner = await service.create_learner(session, principal, body)
    return LearnerPublic.model_validate(learner, from_attributes=True)


@router.get("/learners", tags=["learners"])
async def list_learners(
    request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal, page: OffsetPageDep
) -> list[LearnerPublic]:
    """The learners the caller may read, a page at a time (`X-Total-Count`, `Link`)."""
    learners, total = await service.list_learners(session, principal, page)
    set_page_headers(request, response, page, total)
    return [LearnerPublic.model_validate(learner, from_attributes=True) for learner in learners]


@router.get("/learners/{learner_id}", tags=["learners"])
async def get_learner(learner_id: LearnerIdPath, session: SessionDep, principal: CurrentPrincipal) -> LearnerPublic:
    """One learner, if the caller may read it (404 otherwise)."""
    learner = await service.get_learner(session, principal, learner_id)
    return LearnerPublic.model_validate(learner, from_attributes=True)


@router.get("/authz/learners", tags=["authorization"])
async def learner_relations(
    request: Request, response: Response, session: SessionDep, principal: CurrentPrincipal, page: OffsetPageDep
) -> list[LearnerRelation]:
    """For the other services: every learner the caller may read, and as what, a page at a time."""
    relations, total = await service.list_relations(session, principal, page)
    set_page_headers(request, response, page, total)
    return [LearnerRelation(learner_sourced_id=learner_id, relation=relation) for learner_id, relation in relations]


@router.get("/authz/learners/{learner_id}", tags=["authorization"])
async def learner_relation(
    learner_id: LearnerIdPath, session: SessionDep, principal: CurrentPrincipal
) -> LearnerRelation:
    """For the other services: may the caller read this learner, and as what (404 if not)."""
    relation = await service.relation_to_learner(session, principal, learner_id)
    return LearnerRelation(learner_sourced_id=learner_id, relation=relation)


@router.post("/authz/learners/lookup", tags=["authorization"])
async def lookup_learners(body: LearnerLookup, session: SessionDep, principal: CurrentPrincipal) -> LearnerLookupResult:
    """For the progress service: which learners of the caller's tenant have these email addresses."""
    return LearnerLookupResult(learners=await service.learner_ids_by_email(session, principal, body.emails))


@router.get("/authz/classes/{class_id}/learners", tags=["authorization"])
async def class_learners(class_id: ClassIdPath, session: SessionDep, principal: CurrentPrincipal) -> list[str]:
    """For the other services: the sourcedIds of the class's active learners the caller may read."""
    return await service.class_learners(session, principal, class_id)
