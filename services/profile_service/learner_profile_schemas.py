"""Request and response bodies of learner profiles (camelCase on the wire, unknown fields refused).

A PATCH is merge-patch-like: only the members present change; `null` resets a member to its
default (an empty list, no value, the default sharing). Objects (`accommodations`, `sharing`) merge
member by member too.
"""

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Field, JsonValue, StrictBool, StringConstraints

from services.profile_service.learner_profile_rules import (
    Accommodation,
    ChangeRole,
    GoalSetter,
    GoalStatus,
    Modality,
    SharingGroup,
    canonical_case,
    is_language_tag,
)
from services.profile_service.schemas import CamelModel

T = TypeVar("T")

SINGLE_LINE = r"^[^\x00-\x1f\x7f]*$"
MAX_GOALS = 50
MAX_TAGS = 30


def _unique(items: list[T]) -> list[T]:
    """Drop repeats (text compared without case), keeping the first of each."""
    seen: set[object] = set()
    kept = []
    for item in items:
        key = item.casefold() if isinstance(item, str) else item
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _language_tag(tag: str) -> str:
    if not is_language_tag(tag):
        raise ValueError("not a BCP 47 language tag such as `en`, `es-MX` or `zh-Hant-TW`")
    return canonical_case(tag)


Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=SINGLE_LINE)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=SINGLE_LINE)]
NeedText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]
GoalText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]
CompetencyId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^\S+$")]
LanguageTag = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), AfterValidator(_language_tag)]
Minutes = Annotated[int, Field(strict=True, ge=0, le=10080)]
TagList = Annotated[list[Tag], Field(max_length=MAX_TAGS), AfterValidator(_unique)]
StrengthList = Annotated[list[ShortText], Field(max_length=MAX_TAGS), AfterValidator(_unique)]
NeedList = Annotated[list[NeedText], Field(max_length=MAX_TAGS), AfterValidator(_unique)]


class GoalInput(CamelModel):
    """A goal in a PATCH: without `id` a new goal; with `id` that goal, members left out unchanged."""

    id: str | None = Field(default=None, max_length=64, description="The goal's id; leave out to add a goal.")
    text: GoalText | None = Field(default=None, description="What the goal is (needed for a new goal).")
    target_competency_ids: list[CompetencyId] | None = Field(
        default=None, max_length=20, description="Competencies (CASE item ids) the goal aims at."
    )
    target_date: date | None = Field(default=None, description="When the goal should be met (ISO date).")
    set_by: GoalSetter | None = Field(
        default=None, description="Who owns the goal; set by the server, only checked when sent."
    )
    status: GoalStatus | None = Field(default=None, description="active (the default), achieved or dropped.")


class AccommodationsPatch(CamelModel):
    """A change of accommodations; members left out keep their value."""

    items: Annotated[list[Accommodation], Field(max_length=7), AfterValidator(_unique)] | None = Field(
        default=None, description="The accommodations the learner gets."
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = Field(
        default=None, description="Free text: details, or what `other` means."
    )


class SharingPatch(CamelModel):
    """A change of sharing settings; members left out keep their value, `null` restores the default."""

    guardians: Annotated[list[SharingGroup], Field(max_length=6), AfterValidator(_unique)] | None = Field(
        default=None, description="Field groups the learner's guardians may see."
    )
    teachers: Annotated[list[SharingGroup], Field(max_length=6), AfterValidator(_unique)] | None = Field(
        default=None,
        description="Field groups teachers may see; goals, strengths, modalities, preferences and support always.",
    )


class LearnerProfilePatch(CamelModel):
    """A change of a learner profile: only the fields present change."""

    goals: list[GoalInput] | None = Field(
        default=None,
        max_length=MAX_GOALS,
        description="The whole list of goals: items with `id` keep (and may change) that goal; others are new.",
    )
    interests: TagList | None = Field(default=None, description="Interest tags (learner).")
    strengths: StrengthList | None = Field(
        default=None, description="Strengths, as tags or short texts (learner or teacher)."
    )
    needs: NeedList | None = Field(default=None, description="Learning needs, as short texts (teacher).")
    accommodations: AccommodationsPatch | None = Field(default=None, description="Accommodations (teacher).")
    preferred_modalities: Annotated[list[Modality], Field(max_length=5), AfterValidator(_unique)] | None = Field(
        default=None, description="How the learner likes to learn (learner)."
    )
    language: LanguageTag | None = Field(default=None, description="Preferred language, a BCP 47 tag (learner).")
    weekly_time_budget_minutes: Minutes | None = Field(
        default=None, description="Minutes a week the learner means to spend, 0 to 10080 (learner)."
    )
    sharing: SharingPatch | None = Field(default=None, description="What guardians and teachers may see (learner).")
    guardian_consent: StrictBool = Field(
        default=False, description="COPPA consent (a linked guardian, or an admin recording paper consent)."
    )


class Goal(CamelModel):
    """A goal of the learner's, set by the learner or by a teacher."""

    id: str = Field(description="Server-assigned id.")
    text: str
    target_competency_ids: list[str] = Field(description="Competencies (CASE item ids) the goal aims at.")
    target_date: date | None = Field(description="When the goal should be met.")
    set_by: GoalSetter = Field(description="Who owns the goal: only they may change or remove it.")
    status: GoalStatus


class Accommodations(CamelModel):
    """The accommodations the learner gets."""

    items: list[Accommodation]
    note: str | None = Field(description="Free text: details, or what `other` means.")


class Sharing(CamelModel):
    """Which field groups guardians and teachers may see."""

    guardians: list[SharingGroup]
    teachers: list[SharingGroup]


class FieldChange(CamelModel):
    """Who last changed a field, as what, and when."""

    changed_by: str = Field(description="The `sub` of the person who made the change.")
    changed_by_role: ChangeRole
    changed_at: datetime


class LearnerProfilePublic(CamelModel):
    """A learner profile as the caller may see it: fields the caller may not read are left out."""

    learner_sourced_id: str
    version: int = Field(description="Grows with every change; the `ETag` is this number in quotes.")
    consent_required: bool = Field(
        description="The learner is under 13 and no guardian has consented: nothing beyond the roster is kept."
    )
    guardian_consent: bool = Field(description="Whether a guardian (or an admin, on paper) has consented.")
    goals: list[Goal] | None = None
    interests: list[str] | None = None
    strengths: list[str] | None = None
    needs: list[str] | None = None
    accommodations: Accommodations | None = None
    preferred_modalities: list[Modality] | None = None
    language: str | None = None
    weekly_time_budget_minutes: int | None = None
    sharing: Sharing | None = None
    last_changes: dict[str, FieldChange] = Field(description="Per readable field: who last changed it, and when.")


class ProfileChangePublic(CamelModel):
    """One entry of a profile's history."""

    id: int = Field(description="Increasing with time; entries are listed newest first.")
    field: str = Field(description="The field that changed (camelCase, as in the profile).")
    old_value: JsonValue = Field(description="The value before; null once erased.")
    new_value: JsonValue = Field(description="The value after; null once erased.")
    values_erased: bool = Field(description="The values were erased when guardian consent was withdrawn.")
    changed_by: str
    changed_by_role: ChangeRole
    changed_at: datetime
    version: int = Field(description="The profile version this change produced.")
