"""HTTP routes of learner profiles: thin wrappers over `learner_profiles`."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from kit.auth import CurrentPrincipal
from kit.db import SessionDep
from kit.identifiers import LearnerIdPath
from kit.pagination import OffsetPageDep, set_page_headers
from services.profile_service import learner_profiles
from services.profile_service.learner_profile_rules import entity_tag
from services.profile_service.learner_profile_schemas import (
    LearnerProfilePatch,
    LearnerProfilePublic,
    ProfileChangePublic,
)

router = APIRouter(tags=["learner profiles"])

IfMatch = Annotated[
    str | None,
    Header(description='The `ETag` of the profile the change is based on, e.g. `"3"`; 412 when it is stale.'),
]


def _set_profile_headers(response: Response, profile: LearnerProfilePublic) -> None:
    response.headers["ETag"] = entity_tag(profile.version)
    response.headers["Cache-Control"] = "private, no-store"


@router.get("/learners/{learner_id}/profile", response_model_exclude_unset=True)
async def get_learner_profile(
    learner_id: LearnerIdPath, response: Response, session: SessionDep, principal: CurrentPrincipal
) -> LearnerProfilePublic:
    """The learner's profile, with the fields the caller may read (`ETag`: its version)."""
    profile = await learner_profiles.get_profile(session, principal, learner_id)
    _set_profile_headers(response, profile)
    return profile


@router.patch("/learners/{learner_id}/profile", response_model_exclude_unset=True)
async def patch_learner_profile(
    learner_id: LearnerIdPath,
    body: LearnerProfilePatch,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    if_match: IfMatch = None,
) -> LearnerProfilePublic:
    """Change the fields present in the body, each only by whom may change it (`If-Match` guards races)."""
    profile = await learner_profiles.patch_profile(session, principal, learner_id, body, if_match)
    _set_profile_headers(response, profile)
    return profile


@router.get("/learners/{learner_id}/profile/history")
async def list_learner_profile_history(
    learner_id: LearnerIdPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: CurrentPrincipal,
    page: OffsetPageDep,
) -> list[ProfileChangePublic]:
    """The profile's changes, newest first, of the fields the caller may read (`X-Total-Count`, `Link`)."""
    changes, total = await learner_profiles.list_profile_history(session, principal, learner_id, page)
    set_page_headers(request, response, page, total)
    response.headers["Cache-Control"] = "private, no-store"
    return changes
