"""Use cases of learner profiles: read, change (with history, ETags and consent), and history.

Who may do what is decided in `learner_profile_rules`; this module loads the facts (relation,
age, stored profile), applies the rules, and writes the profile, its history and the
`profile.updated` event in the caller's transaction. It flushes; the request session commits.
"""

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import insert_if_absent
from kit.errors import AppError, BadRequestError, ConflictError, ForbiddenError
from kit.outbox import add_events
from kit.pagination import OffsetPage
from services.profile_service import events, service
from services.profile_service import learner_profile_rules as rules
from services.profile_service.db import outbox
from services.profile_service.learner_profile_schemas import (
    LearnerProfilePatch,
    LearnerProfilePublic,
    ProfileChangePublic,
)
from services.profile_service.models import Demographics, LearnerProfile, LearnerProfileChange, RosterUser, utc_now

COLUMNS: Final[Mapping[str, str]] = {
    rules.GOALS: "goals",
    rules.INTERESTS: "interests",
    rules.STRENGTHS: "strengths",
    rules.NEEDS: "needs",
    rules.ACCOMMODATIONS: "accommodations",
    rules.PREFERRED_MODALITIES: "preferred_modalities",
    rules.LANGUAGE: "language",
    rules.WEEKLY_TIME_BUDGET: "weekly_time_budget_minutes",
    rules.SHARING: "sharing",
    rules.GUARDIAN_CONSENT: "guardian_consent",
}
"""Each profile field's column."""

WRITE_ATTEMPTS: Final = 3


class PreconditionFailedError(AppError):
    """`If-Match` names a version other than the stored one: someone changed the profile meanwhile."""

    status, code, title = 412, "precondition_failed", "Precondition failed"


class ConsentRequiredError(ConflictError):
    """The learner is under 13 and no guardian has consented, so nothing beyond the roster may be stored."""

    code, title = "consent_required", "Guardian consent required"


class ProfileValidationError(AppError):
    """The body is well-formed but cannot apply to the stored profile (e.g. an unknown goal id)."""

    status, code, title = 422, "validation_error", "Invalid request"


class _Facts:
    """What a request knows about the learner and the caller, loaded once."""

    def __init__(self, relation: rules.Relation, under_13: bool, row: LearnerProfile | None) -> None:
        self.relation = relation
        self.under_13 = under_13
        self.row = row
        self.state = _state_of(row)
        self.version = row.version if row is not None else 0
        self.changes: dict[str, Any] = dict(row.field_changes) if row is not None else {}

    @property
    def consent_required(self) -> bool:
        return rules.consent_required(under_13=self.under_13, guardian_consent=self.state[rules.GUARDIAN_CONSENT])


def _state_of(row: LearnerProfile | None) -> dict[str, Any]:
    state = rules.empty_profile()
    if row is not None:
        for field, column in COLUMNS.items():
            state[field] = getattr(row, column)
    return state


async def _relation(session: AsyncSession, principal: Principal, learner_id: str) -> rules.Relation:
    relation = await service.relation_to_learner(session, principal, learner_id)
    if relation not in rules.RELATIONS or relation == "partner":
        raise ForbiddenError("Learner profiles are open to the learner, their guardians, teachers and admins.")
    return cast(rules.Relation, relation)


async def _is_under_13(session: AsyncSession, principal: Principal, learner_id: str) -> bool:
    learner = await session.get(RosterUser, (principal.tenant_id, learner_id))
    demographics = await session.get(Demographics, (principal.tenant_id, learner_id))
    birth_date = None
    if demographics is not None and demographics.status != "tobedeleted":
        birth_date = demographics.birth_date
    return rules.is_under_13(birth_date, learner.grades if learner is not None else [], service.today().date())


async def _load_row(session: AsyncSession, tenant_id: str, learner_id: str) -> LearnerProfile | None:
    query = (
        select(LearnerProfile)
        .where(col(LearnerProfile.tenant_id) == tenant_id, col(LearnerProfile.learner_sourced_id) == learner_id)
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).one_or_none()


async def _facts(session: AsyncSession, principal: Principal, learner_id: str) -> _Facts:
    relation = await _relation(session, principal, learner_id)
    under_13 = await _is_under_13(session, principal, learner_id)
    return _Facts(relation, under_13, await _load_row(session, principal.tenant_id, learner_id))


def _readable(facts: _Facts) -> frozenset[str]:
    return rules.readable_fields(facts.relation, facts.state[rules.SHARING], under_13=facts.under_13)


def _view(learner_id: str, facts: _Facts) -> LearnerProfilePublic:
    """The profile as the caller may see it (an empty one while consent is required)."""
    readable = _readable(facts)
    locked = facts.consent_required
    shown = rules.empty_profile() if locked else facts.state
    body: dict[str, Any] = {
        "learnerSourcedId": learner_id,
        "version": facts.version,
        "consentRequired": locked,
        "guardianConsent": facts.state[rules.GUARDIAN_CONSENT],
        "lastChanges": {
            field: change
            for field, change in facts.changes.items()
            if field in readable and (not locked or field == rules.GUARDIAN_CONSENT)
        },
    }
    body |= {field: shown[field] for field in rules.CONSENTED_FIELDS if field in readable}
    return LearnerProfilePublic.model_validate(body)


async def get_profile(session: AsyncSession, principal: Principal, learner_id: str) -> LearnerProfilePublic:
    """The learner's profile as the caller may see it; 404 without a relation, 403 for partners."""
    facts = await _facts(session, principal, learner_id)
    return _view(learner_id, facts)


def _apply(facts: _Facts, requested: Mapping[str, Any]) -> dict[str, Any]:
    """The state after `requested` (wire-form members of the PATCH) is applied."""
    state = dict(facts.state)
    defaults = rules.empty_profile()
    for field, value in requested.items():
        if field == rules.GOALS:
            setter = rules.GOAL_SETTER[facts.relation]
            try:
                state[field] = rules.merge_goals(state[field], value or [], setter, lambda: str(uuid.uuid4()))
            except rules.GoalOwnershipError as exc:
                raise ForbiddenError(exc.message, field=_goal_field(exc)) from exc
            except rules.GoalReferenceError as exc:
                location = _goal_field(exc)
                raise ProfileValidationError(
                    f"Invalid fields: {location}", errors=[{"field": location, "message": exc.message}]
                ) from exc
        elif field == rules.SHARING:
            current = state[field]
            merged = {key: current[key] for key in ("guardians", "teachers")}
            merged |= {key: defaults[field][key] if v is None else v for key, v in (value or {}).items()}
            state[field] = defaults[field] if value is None else rules.normalize_sharing(**merged)
        elif field == rules.ACCOMMODATIONS:
            current = dict(state[field]) | (value or {})
            state[field] = defaults[field] if value is None else current | {"items": current.get("items") or []}
        else:
            state[field] = defaults[field] if value is None else value
    return state


def _goal_field(exc: rules.GoalError) -> str:
    return rules.GOALS if exc.index is None else f"{rules.GOALS}.{exc.index}"


def _check_if_match(if_match: str | None, version: int) -> None:
    if if_match is None:
        return
    try:
        allowed = rules.if_match_allows(if_match, version)
    except ValueError as exc:
        raise BadRequestError(f"If-Match: {exc}.", field="If-Match") from exc
    if not allowed:
        raise PreconditionFailedError(
            f"The profile is at version {version} ({rules.entity_tag(version)}); read it again and reapply your change."
        )


async def patch_profile(
    session: AsyncSession,
    principal: Principal,
    learner_id: str,
    patch: LearnerProfilePatch,
    if_match: str | None = None,
) -> LearnerProfilePublic:
    """Change the fields present in `patch`, if the caller may; records history and `profile.updated`."""
    requested = patch.model_dump(mode="json", by_alias=True, exclude_unset=True)
    relation = await _relation(session, principal, learner_id)
    forbidden = rules.forbidden_fields(relation, requested)
    if forbidden:
        raise ForbiddenError(
            f"As {relation}, you may not change: {', '.join(forbidden)}.", field=forbidden[0], fields=forbidden
        )
    under_13 = await _is_under_13(session, principal, learner_id)
    for _attempt in range(WRITE_ATTEMPTS):
        facts = _Facts(relation, under_13, await _load_row(session, principal.tenant_id, learner_id))
        _check_if_match(if_match, facts.version)
        if facts.consent_required and set(requested) - {rules.GUARDIAN_CONSENT}:
            raise ConsentRequiredError(
                "The learner is under 13: a linked guardian (or an admin recording paper consent) must set "
                "guardianConsent before anything beyond the roster is stored.",
                field=next(field for field in rules.FIELDS if field in requested and field != rules.GUARDIAN_CONSENT),
            )
        new_state = _apply(facts, requested)
        # A guardian's (or admin's) "no" for a child under 13 erases whatever is stored, including
        # what was stored while the roster said the learner was older.
        erasing = under_13 and rules.GUARDIAN_CONSENT in requested and not new_state[rules.GUARDIAN_CONSENT]
        if erasing:
            new_state = rules.empty_profile()
        changed = [field for field in rules.FIELDS if new_state[field] != facts.state[field]]
        if not changed:
            return _view(learner_id, facts)
        written = await _write(session, principal, learner_id, facts, new_state, changed, erasing=erasing)
        if written is not None:
            return _view(learner_id, written)
        # Someone changed the profile since it was read: read it again (If-Match is checked anew).
    raise ConflictError("The profile is being changed by someone else right now; try again.")


async def _write(
    session: AsyncSession,
    principal: Principal,
    learner_id: str,
    facts: _Facts,
    new_state: dict[str, Any],
    changed: Sequence[str],
    *,
    erasing: bool,
) -> _Facts | None:
    """Store `new_state` if the profile is still at `facts.version`; None when someone got there first."""
    tenant_id, now = principal.tenant_id, utc_now()
    role = rules.CHANGE_ROLE[facts.relation]
    stamp = {"changedBy": principal.sub, "changedByRole": role, "changedAt": now.isoformat()}
    field_changes = {**facts.changes, **dict.fromkeys(changed, stamp)}
    if facts.row is None:
        empty = rules.empty_profile()
        await insert_if_absent(
            session,
            LearnerProfile,
            {"tenant_id": tenant_id, "learner_sourced_id": learner_id, "version": 0, "field_changes": {}}
            | {column: empty[field] for field, column in COLUMNS.items()}
            | {"created_at": now, "updated_at": now},
        )
    version = facts.version + 1
    key = sa.and_(col(LearnerProfile.tenant_id) == tenant_id, col(LearnerProfile.learner_sourced_id) == learner_id)
    update = (
        sa.update(LearnerProfile)
        .where(key, col(LearnerProfile.version) == facts.version)
        .values({COLUMNS[field]: new_state[field] for field in changed})
        .values(version=version, field_changes=field_changes, updated_at=now)
    )
    connection = await session.connection()
    result = await connection.execute(update)
    if result.rowcount != 1:
        return None
    if erasing:
        await connection.execute(
            sa.update(LearnerProfileChange)
            .where(
                col(LearnerProfileChange.tenant_id) == tenant_id,
                col(LearnerProfileChange.learner_sourced_id) == learner_id,
                col(LearnerProfileChange.field) != rules.GUARDIAN_CONSENT,
            )
            .values(old_value=None, new_value=None, values_erased=True)
        )
    for field in changed:
        values_erased = erasing and field != rules.GUARDIAN_CONSENT
        session.add(
            LearnerProfileChange(
                tenant_id=tenant_id,
                learner_sourced_id=learner_id,
                version=version,
                field=field,
                old_value=None if values_erased else facts.state[field],
                new_value=None if values_erased else new_state[field],
                values_erased=values_erased,
                changed_by=principal.sub,
                changed_by_role=role,
                changed_at=now,
            )
        )
    await session.flush()
    await add_events(
        session, outbox, [events.profile_updated(tenant_id, learner_id, list(changed), version, erased=erasing)]
    )
    written = await _load_row(session, tenant_id, learner_id)
    return _Facts(facts.relation, facts.under_13, written)


async def list_profile_history(
    session: AsyncSession, principal: Principal, learner_id: str, page: OffsetPage
) -> tuple[list[ProfileChangePublic], int]:
    """One page of the profile's changes, newest first, of the fields the caller may read; and the total."""
    facts = await _facts(session, principal, learner_id)
    visible: sa.ColumnElement[bool] = col(LearnerProfileChange.field).in_(sorted(_readable(facts)))
    if facts.consent_required:  # values are shown again only once a guardian consents
        visible = sa.and_(
            visible,
            sa.or_(
                col(LearnerProfileChange.field) == rules.GUARDIAN_CONSENT,
                col(LearnerProfileChange.values_erased).is_(True),
            ),
        )
    query = select(LearnerProfileChange).where(
        col(LearnerProfileChange.tenant_id) == principal.tenant_id,
        col(LearnerProfileChange.learner_sourced_id) == learner_id,
        visible,
    )
    total = (await session.exec(select(sa.func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(col(LearnerProfileChange.id).desc()).limit(page.limit).offset(page.offset))
    return [_change_public(row) for row in rows], total


def _change_public(row: LearnerProfileChange) -> ProfileChangePublic:
    return ProfileChangePublic(
        id=row.id or 0,
        field=row.field,
        old_value=row.old_value,
        new_value=row.new_value,
        values_erased=row.values_erased,
        changed_by=row.changed_by,
        changed_by_role=cast(rules.ChangeRole, row.changed_by_role),
        changed_at=row.changed_at,
        version=row.version,
    )
