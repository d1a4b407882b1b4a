"""The rules of learner profiles, as plain functions over plain data (no FastAPI, no database).

What lives here:
- the fields and their sharing groups, and which relation (`self`, `guardian`, `teacher`,
  `admin`, `partner`, as `service.relation_to_learner` names them) may read or edit which field;
- the sharing filter: what a guardian or teacher sees given the learner's sharing settings;
- the COPPA rule: a learner under 13 needs a guardian's consent before anything beyond the roster
  is stored (age from the birth date, else from the grades, else assumed under 13);
- how a list of goals is merged, with learners and teachers each owning their own goals;
- the shape of a BCP 47 language tag, and the entity tags (`ETag`/`If-Match`) of profile versions.

Values are handled in their wire form: camelCase keys, dates as ISO strings.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final, Literal, get_args

Relation = Literal["self", "guardian", "teacher", "admin", "partner"]
GoalSetter = Literal["learner", "teacher"]
GoalStatus = Literal["active", "achieved", "dropped"]
Accommodation = Literal[
    "extendedTime", "textToSpeech", "reducedChoices", "largePrint", "breaks", "speechToText", "other"
]
Modality = Literal["video", "reading", "practice", "handsOn", "audio"]
SharingGroup = Literal["goals", "interests", "strengths", "modalities", "preferences", "support"]
ChangeRole = Literal["learner", "guardian", "teacher", "admin"]

RELATIONS: Final = frozenset(get_args(Relation))

GOALS: Final = "goals"
INTERESTS: Final = "interests"
STRENGTHS: Final = "strengths"
NEEDS: Final = "needs"
ACCOMMODATIONS: Final = "accommodations"
PREFERRED_MODALITIES: Final = "preferredModalities"
LANGUAGE: Final = "language"
WEEKLY_TIME_BUDGET: Final = "weeklyTimeBudgetMinutes"
SHARING: Final = "sharing"
GUARDIAN_CONSENT: Final = "guardianConsent"

CONSENTED_FIELDS: Final = (
    GOALS,
    INTERESTS,
    STRENGTHS,
    NEEDS,
    ACCOMMODATIONS,
    PREFERRED_MODALITIES,
    LANGUAGE,
    WEEKLY_TIME_BUDGET,
    SHARING,
)
"""Every field beyond the roster: stored for a learner under 13 only with a guardian's consent."""

FIELDS: Final = (*CONSENTED_FIELDS, GUARDIAN_CONSENT)
"""Every field of a profile, in the order responses and errors list them."""

SHARING_GROUPS: Final[Mapping[str, tuple[str, ...]]] = {
    "goals": (GOALS,),
    "interests": (INTERESTS,),
    "strengths": (STRENGTHS,),
    "modalities": (PREFERRED_MODALITIES,),
    "preferences": (LANGUAGE, WEEKLY_TIME_BUDGET),
    "support": (NEEDS, ACCOMMODATIONS),
}
"""The groups a learner shares, or not, with guardians and with teachers."""

DEFAULT_GUARDIAN_GROUPS: Final[frozenset[str]] = frozenset({"goals", "interests", "strengths", "modalities"})
TEACHER_FIXED_GROUPS: Final[frozenset[str]] = frozenset({"goals", "strengths", "modalities", "preferences", "support"})
"""What teachers always see, because instruction needs it (and they edit goals, strengths and support)."""

LEARNER_PROVIDED_GROUPS: Final[frozenset[str]] = frozenset(
    {"goals", "interests", "strengths", "modalities", "preferences"}
)
"""What a learner tells us: COPPA lets the parent of a child under 13 review it, whatever the sharing says."""

EDITABLE: Final[Mapping[Relation, frozenset[str]]] = {
    "self": frozenset({GOALS, INTERESTS, STRENGTHS, PREFERRED_MODALITIES, LANGUAGE, WEEKLY_TIME_BUDGET, SHARING}),
    "teacher": frozenset({GOALS, STRENGTHS, NEEDS, ACCOMMODATIONS}),
    "guardian": frozenset({GUARDIAN_CONSENT}),
    "admin": frozenset({GUARDIAN_CONSENT}),
    "partner": frozenset(),
}
"""Which fields each relation may change (goals: only the goals of its own kind)."""

GOAL_SETTER: Final[Mapping[Relation, GoalSetter]] = {"self": "learner", "teacher": "teacher"}
CHANGE_ROLE: Final[Mapping[Relation, ChangeRole]] = {
    "self": "learner",
    "guardian": "guardian",
    "teacher": "teacher",
    "admin": "admin",
}
"""The role recorded as `changedByRole` for a change made under each relation."""

COPPA_AGE: Final = 13
UNDER_13_GRADES: Final = frozenset({"IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07"})
THIRTEEN_AND_OVER_GRADES: Final = frozenset({"08", "09", "10", "11", "12", "13", "PS"})


def empty_profile() -> dict[str, Any]:
    """A profile with nothing stored: every field at its default, consent not given."""
    return {
        GOALS: [],
        INTERESTS: [],
        STRENGTHS: [],
        NEEDS: [],
        ACCOMMODATIONS: {"items": [], "note": None},
        PREFERRED_MODALITIES: [],
        LANGUAGE: None,
        WEEKLY_TIME_BUDGET: None,
        SHARING: default_sharing(),
        GUARDIAN_CONSENT: False,
    }


def default_sharing() -> dict[str, list[str]]:
    """Sharing before the learner narrows it: guardians see goals, interests, strengths and modalities."""
    return normalize_sharing(DEFAULT_GUARDIAN_GROUPS, SHARING_GROUPS)


def normalize_sharing(guardians: Iterable[str], teachers: Iterable[str]) -> dict[str, list[str]]:
    """Sharing settings in canonical order, with the groups teachers always see added."""
    guardian_set, teacher_set = set(guardians), set(teachers) | TEACHER_FIXED_GROUPS
    return {
        "guardians": [group for group in SHARING_GROUPS if group in guardian_set],
        "teachers": [group for group in SHARING_GROUPS if group in teacher_set],
    }


def _fields_of(groups: Iterable[str]) -> set[str]:
    return {field for group in groups for field in SHARING_GROUPS.get(group, ())}


def readable_fields(relation: Relation, sharing: Mapping[str, Sequence[str]], *, under_13: bool) -> frozenset[str]:
    """The fields `relation` may read, given the learner's sharing settings and age."""
    if relation in ("self", "admin"):
        return frozenset(FIELDS)
    if relation == "teacher":
        return frozenset(_fields_of([*sharing.get("teachers", ()), *TEACHER_FIXED_GROUPS]) | {GUARDIAN_CONSENT})
    if relation == "guardian":
        groups = set(sharing.get("guardians", ()))
        if under_13:
            groups |= LEARNER_PROVIDED_GROUPS
        return frozenset(_fields_of(groups) | {GUARDIAN_CONSENT})
    return frozenset()


def forbidden_fields(relation: Relation, fields: Iterable[str]) -> list[str]:
    """Those of `fields` that `relation` may not edit, in profile order."""
    wanted = set(fields)
    return [field for field in FIELDS if field in wanted and field not in EDITABLE[relation]]


def age_on(birth_date: date, today: date) -> int:
    """Whole years from `birth_date` to `today` (a 29 February birthday comes on 1 March)."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _grade_code(grade: str) -> str:
    code = grade.strip().upper()
    return code.zfill(2) if code.isdigit() else code


def is_under_13(birth_date: date | None, grades: Iterable[str], today: date) -> bool:
    """Whether COPPA applies: by birth date; without one, unless every grade is 08 or above; else yes."""
    if birth_date is not None:
        return age_on(birth_date, today) < COPPA_AGE
    codes = {_grade_code(grade) for grade in grades}
    return not (codes and codes <= THIRTEEN_AND_OVER_GRADES)


def consent_required(*, under_13: bool, guardian_consent: bool) -> bool:
    """Whether profile fields are locked until a guardian consents."""
    return under_13 and not guardian_consent


class GoalError(ValueError):
    """A goals list that cannot be applied; `index` is the offending item (None: a goal left out)."""

    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


class GoalOwnershipError(GoalError):
    """The caller would add, change or remove a goal of the other kind (learner or teacher)."""


class GoalReferenceError(GoalError):
    """An item names a goal id that does not exist, names one twice, or a new goal has no text."""


GOAL_KEYS: Final = ("text", "targetCompetencyIds", "targetDate", "status")


def merge_goals(
    stored: Sequence[Mapping[str, Any]],
    incoming: Sequence[Mapping[str, Any]],
    setter: GoalSetter,
    new_id: Callable[[], str],
) -> list[dict[str, Any]]:
    """The goals after a PATCH: `incoming` is the whole list; items with an `id` update that goal.

    Keys left out of an item keep their stored value; items without an `id` are new goals of
    `setter`. A goal of the other kind may be listed unchanged, never changed or left out.
    """
    by_id = {goal["id"]: goal for goal in stored}
    seen: set[str] = set()
    merged: list[dict[str, Any]] = []
    for index, item in enumerate(incoming):
        claimed = item.get("setBy")
        goal_id = item.get("id")
        if goal_id is None:
            if claimed is not None and claimed != setter:
                raise GoalOwnershipError(f"You may add {setter} goals only.", index)
            if not item.get("text"):
                raise GoalReferenceError("A new goal needs a text.", index)
            merged.append(
                {
                    "id": new_id(),
                    "text": item["text"],
                    "targetCompetencyIds": list(item.get("targetCompetencyIds") or []),
                    "targetDate": item.get("targetDate"),
                    "setBy": setter,
                    "status": item.get("status") or "active",
                }
            )
            continue
        if goal_id not in by_id:
            raise GoalReferenceError(f"There is no goal {goal_id!r}; leave `id` out to add a goal.", index)
        if goal_id in seen:
            raise GoalReferenceError(f"Goal {goal_id!r} is listed twice.", index)
        seen.add(goal_id)
        current = dict(by_id[goal_id])
        if claimed is not None and claimed != current["setBy"]:
            raise GoalOwnershipError(f"Goal {goal_id!r} was set by a {current['setBy']}; that cannot change.", index)
        updated = current | {key: item[key] for key in GOAL_KEYS if key in item}
        if updated["targetCompetencyIds"] is None:
            updated["targetCompetencyIds"] = []
        if updated["status"] is None:
            updated["status"] = current["status"]
        if updated["text"] is None:
            raise GoalReferenceError("A goal's text cannot be removed.", index)
        if updated != current and current["setBy"] != setter:
            raise GoalOwnershipError(
                f"Goal {goal_id!r} was set by a {current['setBy']}; only they may change it.", index
            )
        merged.append(updated)
    for goal in stored:
        if goal["id"] not in seen and goal["setBy"] != setter:
            raise GoalOwnershipError(f"Goal {goal['id']!r} was set by a {goal['setBy']}; only they may remove it.")
    return merged


_ALNUM = "[A-Za-z0-9]"
LANGUAGE_TAG = re.compile(
    rf"""
    (?:
      [A-Za-z]{{2,3}}(?:-[A-Za-z]{{3}}){{0,3}}      # language (ISO 639), extended language subtags
      (?:-[A-Za-z]{{4}})?                           # script
      (?:-(?:[A-Za-z]{{2}}|[0-9]{{3}}))?            # region
      (?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*  # variants
      (?:-[0-9A-WY-Za-wy-z](?:-{_ALNUM}{{2,8}})+)*  # extensions
      (?:-[Xx](?:-{_ALNUM}{{1,8}})+)?               # private use
    |
      [Xx](?:-{_ALNUM}{{1,8}})+                     # a private use tag on its own
    )
    """,
    re.VERBOSE | re.ASCII,
)
MAX_LANGUAGE_TAG_LENGTH: Final = 64


def is_language_tag(tag: str) -> bool:
    """Whether `tag` has the shape of a BCP 47 language tag (RFC 5646), primary language ISO 639."""
    return len(tag) <= MAX_LANGUAGE_TAG_LENGTH and LANGUAGE_TAG.fullmatch(tag) is not None


def canonical_case(tag: str) -> str:
    """RFC 5646's case conventions: `zh-Hant-TW`, `en-US-x-twain` (case carries no meaning in a tag)."""
    subtags = tag.split("-")
    out = [subtags[0].lower()]
    after_singleton = subtags[0].lower() == "x"
    for subtag in subtags[1:]:
        if after_singleton or len(subtag) == 1:
            after_singleton = True
            out.append(subtag.lower())
        elif len(subtag) == 2:
            out.append(subtag.upper())
        elif len(subtag) == 4 and subtag.isalpha():
            out.append(subtag.title())
        else:
            out.append(subtag.lower())
    return "-".join(out)


_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')


def entity_tag(version: int) -> str:
    """The `ETag` of a profile version."""
    return f'"{version}"'


def if_match_allows(header: str, version: int) -> bool:
    """Whether an `If-Match` value admits `version`; `ValueError` when it is not a list of entity tags.

    Weak tags (`W/"3"`) are compared like strong ones: proxies that compress responses weaken
    tags, and the version they carry is the same.
    """
    items = [item.strip() for item in header.split(",")]
    if items == ["*"]:
        return True
    tags = []
    for item in items:
        match = _ENTITY_TAG.fullmatch(item)
        if match is None:
            raise ValueError(f"{item!r} is not an entity tag such as {entity_tag(version)}")
        tags.append(match.group(1))
    return str(version) in tags
