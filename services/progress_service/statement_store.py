"""Storing statements: validation, immutability, voiding, index rows, attachments, mastery and events, atomically.

A batch is stored whole or not at all. A statement id already stored with equivalent content is
accepted without a second copy; with different content it is a conflict. Voiding marks the
target (before or after it arrives) so queries skip it, and a voiding statement can never
target another voiding statement.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.auth import Principal
from kit.db import insert_if_absent, insert_rows, table_of
from kit.errors import BadRequestError, ConflictError, ForbiddenError
from kit.key_conditions import among
from kit.outbox import Event, add_events
from services.progress_service import documents, mastery
from services.progress_service.access import check_may_write_statements
from services.progress_service.db import outbox
from services.progress_service.evidence import evidence_of
from services.progress_service.learner_directory import LearnerDirectory
from services.progress_service.models import Statement, StatementActivity, StatementAgent, StatementAttachment
from services.progress_service.xapi_auth import DEFINE
from services.progress_service.xapi_formats import Version
from services.progress_service.xapi_multipart import Attachment
from services.progress_service.xapi_statements import (
    References,
    agent_ifi,
    complete_statement,
    is_voiding,
    references,
    statements_equivalent,
)
from services.progress_service.xapi_validation import XapiValidationError, validate_statement

AUTHORITY_HOME_PAGE = "https://plp.dev/api-clients"
"""The account home page of the `authority` the LRS writes: the credentials' `sub` is its name."""
MAX_BATCH = 1_000
MAX_IRI = 2_048
"""Longest verb or activity IRI stored (the width of the columns that index them)."""
MAX_AGENT_KEY = 1_024
"""Longest agent identifier key stored (`statement_agent.ifi`)."""


def format_stored(at: datetime) -> str:
    """A `stored` value: UTC with milliseconds and `Z`."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def authority_of(principal: Principal) -> dict[str, Any]:
    """The Agent the LRS names as `authority`: the credentials that sent the statement."""
    return {"objectType": "Agent", "account": {"homePage": AUTHORITY_HOME_PAGE, "name": principal.sub}}


def credential_of_authority(ifi: str) -> str | None:
    """The credentials (`sub`) an authority agent key names, if it is one the LRS writes.

    Every statement's authority is its `credential` column, so it gets no `statement_agent` row.
    """
    prefix = f"account:{AUTHORITY_HOME_PAGE}|"
    return ifi[len(prefix) :] if ifi.startswith(prefix) else None


def validate_batch(statements: Sequence[Any], version: Version, single: bool) -> list[dict[str, Any]]:
    """Every statement checked against the spec, or a 400 naming the first broken rule."""
    if not statements:
        raise BadRequestError("Send at least one statement.", field="statements")
    if len(statements) > MAX_BATCH:
        raise BadRequestError(f"Send at most {MAX_BATCH} statements per request.", field="statements")
    for index, statement in enumerate(statements):
        try:
            validate_statement(statement, version, path="" if single else f"[{index}]")
        except XapiValidationError as exc:
            raise BadRequestError(str(exc), field=exc.path or "statement") from exc
    return list(statements)


async def record_statements(
    session: AsyncSession,
    principal: Principal,
    version: Version,
    statements: list[dict[str, Any]],
    attachments: Sequence[Attachment] = (),
    directory: LearnerDirectory | None = None,
) -> list[str]:
    """Store a validated batch atomically (see the module docstring); returns the ids in order.

    `directory` resolves actors identified by `mbox` to roster learners (API clients' batches only).
    """
    check_may_write_statements(principal, statements)
    ids = [str(s["id"]).lower() if "id" in s else str(uuid.uuid4()) for s in statements]
    if len(set(ids)) != len(ids):
        raise BadRequestError("A batch may not repeat a statement id.", field="id")
    targets = {str(s["object"]["id"]).lower(): i for i, s in zip(ids, statements, strict=True) if is_voiding(s)}
    known = await _known(session, principal.tenant_id, ids, list(targets))
    if targets and not principal.has_role("partner"):
        await _check_own_targets(session, principal, targets)
    for statement_id, statement in zip(ids, statements, strict=True):
        stored = known.bodies.get(statement_id)
        if stored is not None and not statements_equivalent(stored, statement):
            raise ConflictError(f"Statement {statement_id} is stored already with other content.", field="id")
    batch = {i: s for i, s in zip(ids, statements, strict=True) if i not in known.bodies}
    for target, voider in targets.items():
        if target in known.voiding or (target in batch and is_voiding(batch[target])):
            raise BadRequestError(
                f"Statement {voider} voids {target}, which is itself a voiding statement.", field="object.id"
            )
    if batch:
        emails = await _learner_emails(principal, batch.values(), directory)
        try:
            await _store_new(session, principal, version, batch, attachments, known.voided | set(targets), emails)
        except IntegrityError as exc:  # a concurrent request stored one of these ids first
            raise ConflictError("Some of these statements were stored meanwhile: send them again.", field="id") from exc
    return ids


async def _check_own_targets(session: AsyncSession, principal: Principal, targets: dict[str, str]) -> None:
    """A learner voids only statements stored about themselves (not others', nor ones not stored yet)."""
    rows = await session.exec(
        select(Statement.id, Statement.learner_id).where(
            col(Statement.tenant_id) == principal.tenant_id, col(Statement.id).in_(list(targets))
        )
    )
    own = {statement_id for statement_id, learner_id in rows if learner_id == principal.sub}
    others = sorted(set(targets) - own)
    if others:
        raise ForbiddenError(f"You may void only your own stored statements, not {others[0]}.", field="object.id")


@dataclass(frozen=True, slots=True)
class _Known:
    """What is stored already about a batch: bodies of its ids, which targets void, which ids are voided."""

    bodies: dict[str, dict[str, Any]]
    voiding: set[str]
    voided: set[str]


async def _known(session: AsyncSession, tenant_id: str, ids: list[str], targets: list[str]) -> _Known:
    """One query for the stored statements among the batch's ids and voiding targets, and their voiders."""
    connection = await session.connection()
    table: sa.Table = table_of(Statement)
    rows = await connection.execute(
        sa.select(table.c.id, table.c.body, table.c.voiding, table.c.statement_ref).where(
            table.c.tenant_id == tenant_id,
            sa.or_(
                *among(connection, table.c.id, ids + targets),
                sa.and_(table.c.voiding, sa.or_(*among(connection, table.c.statement_ref, ids))),
            ),
        )
    )
    bodies: dict[str, dict[str, Any]] = {}
    voiding: set[str] = set()
    voided: set[str] = set()
    wanted = set(ids)
    for statement_id, body, is_voider, target in rows:
        if statement_id in wanted:
            bodies[statement_id] = body
        if is_voider:
            voiding.add(statement_id)
            if target in wanted:
                voided.add(target)
    return _Known(bodies, voiding, voided)


async def _store_new(
    session: AsyncSession,
    principal: Principal,
    version: Version,
    batch: dict[str, dict[str, Any]],
    attachments: Sequence[Attachment],
    voided: set[str],
    emails: dict[str, str],
) -> None:
    """Insert the new statements (those in `voided` marked so) with their index rows, mastery and events."""
    tenant_id = principal.tenant_id
    voided_targets = {str(s["object"]["id"]).lower() for s in batch.values() if is_voiding(s)}
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as `stored` says: to the millisecond
    stored = format_stored(now)
    authority = authority_of(principal)
    rows: list[dict[str, Any]] = []
    completed: dict[str, dict[str, Any]] = {}
    referenced: dict[str, References] = {}
    for statement_id, statement in batch.items():
        body = complete_statement(statement, version, statement_id=statement_id, stored=stored, authority=authority)
        completed[statement_id] = body
        refs = referenced[statement_id] = references(body)
        _check_indexable(statement_id, body["verb"]["id"], refs)
        rows.append(
            {
                "tenant_id": tenant_id,
                "id": statement_id,
                "learner_id": _learner_of(body["actor"], emails),
                "verb_id": body["verb"]["id"],
                "registration": refs.registration,
                "statement_ref": refs.statement_ref,
                "voiding": is_voiding(body),
                "voided": statement_id in voided,
                "credential": principal.sub,
                "has_attachments": bool(body.get("attachments")),
                "timestamp": datetime.fromisoformat(body["timestamp"]),  # completion wrote it in UTC ISO 8601
                "stored": now,
                "body": body,
            }
        )
    await insert_rows(session, table_of(Statement), rows)
    authorities = {i: agent_ifi(body["authority"]) for i, body in completed.items()}
    await _add_index_rows(session, tenant_id, referenced, authorities)
    if voided_targets:
        await (await session.connection()).execute(
            sa.update(table_of(Statement))
            .where(col(Statement.tenant_id) == tenant_id, col(Statement.id).in_(sorted(voided_targets)))
            .values(voided=True)
        )
    if principal.has_scope(*DEFINE):
        await documents.merge_activity_definitions(session, tenant_id, _definitions(completed.values()))
    await _store_attachments(session, tenant_id, attachments)
    recorded = {"statementIds": [row["id"] for row in rows]}
    learners = sorted({row["learner_id"] for row in rows if row["learner_id"]})
    events = [Event("progress.statements.recorded", tenant_id, principal.sub, recorded | {"learnerIds": learners})]
    observations = [
        mastery.Observation(row["learner_id"], row["id"], evidence_of(row["body"]), row["timestamp"])
        for row in rows
        if row["learner_id"] and not row["voiding"] and not row["voided"]
    ]
    events.extend(await mastery.record_observations(session, tenant_id, observations))
    if voided_targets:
        events.extend(await mastery.forget_statements(session, tenant_id, voided_targets))
    await add_events(session, outbox, events)


def _check_indexable(statement_id: str, verb_id: str, refs: References) -> None:
    """A 400, not a database error, for identifiers longer than the columns that index them."""
    too_long = [
        *(("verb.id", v) for v in (verb_id,) if _longer(v, MAX_IRI)),
        *(("activity", a) for a in refs.activities | refs.related_activities if _longer(a, MAX_IRI)),
        *(("agent", a) for a in refs.agents | refs.related_agents if _longer(a, MAX_AGENT_KEY)),
    ]
    if too_long:
        field, value = too_long[0]
        raise BadRequestError(
            f"Statement {statement_id}: an identifier of {len(value)} characters is longer than this LRS stores"
            f" ({MAX_IRI} for IRIs, {MAX_AGENT_KEY} for agents).",
            field=field,
        )


def _longer(value: str, characters: int) -> bool:
    # PostgreSQL also caps an index entry's bytes, which non-ASCII characters reach before the column's width.
    return len(value) > characters or len(value.encode()) > documents.MAX_KEY_BYTES


async def _add_index_rows(
    session: AsyncSession, tenant_id: str, referenced: dict[str, References], authorities: dict[str, str | None]
) -> None:
    """The rows the `agent` and `activity` filters find statements by (the authority is in `credential`)."""
    agents: list[dict[str, Any]] = []
    activities: list[dict[str, Any]] = []
    for statement_id, refs in referenced.items():
        authority = authorities[statement_id]
        agents.extend(
            {"tenant_id": tenant_id, "ifi": ifi, "statement_id": statement_id, "direct": ifi in refs.agents}
            for ifi in refs.agents | refs.related_agents
            if ifi != authority or ifi in refs.agents
        )
        activities.extend(
            {
                "tenant_id": tenant_id,
                "activity_id": activity,
                "statement_id": statement_id,
                "direct": activity in refs.activities,
            }
            for activity in refs.activities | refs.related_activities
        )
    await insert_rows(session, table_of(StatementAgent), agents)
    await insert_rows(session, table_of(StatementActivity), activities)


async def _store_attachments(session: AsyncSession, tenant_id: str, attachments: Sequence[Attachment]) -> None:
    for attachment in {a.sha2: a for a in attachments}.values():
        await insert_if_absent(
            session,
            StatementAttachment,
            {
                "tenant_id": tenant_id,
                "sha2": attachment.sha2,
                "content_type": attachment.content_type,
                "content": attachment.content,
            },
        )


def _definitions(statements: Any) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for body in statements:
        for activity in _activities_of(body):
            if isinstance(activity.get("definition"), dict):
                found[activity["id"]] = documents.merge_definition(
                    found.get(activity["id"], {}), activity["definition"]
                )
    return found


def _activities_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    activities: list[dict[str, Any]] = []
    target = body.get("object", {})
    if target.get("objectType", "Activity") == "Activity":
        activities.append(target)
    for value in ((body.get("context") or {}).get("contextActivities") or {}).values():
        activities.extend(value if isinstance(value, list) else [value])
    return activities


def _mbox_email(actor: dict[str, Any]) -> str | None:
    mbox = actor.get("mbox")
    if actor.get("objectType") == "Group" or not isinstance(mbox, str):
        return None
    return mbox.removeprefix("mailto:").lower()


async def _learner_emails(
    principal: Principal, statements: Iterable[dict[str, Any]], directory: LearnerDirectory | None
) -> dict[str, str]:
    """Learners of the batch's `mbox` actors, looked up for API clients' batches."""
    emails = {email for s in statements if (email := _mbox_email(s["actor"])) is not None}
    if not emails or directory is None or not principal.has_role("partner"):
        return {}
    return await directory.by_email(principal, emails)


def _learner_of(actor: dict[str, Any], emails: dict[str, str]) -> str | None:
    """The roster learner an actor is: an account's `name` is the sourcedId; an `mbox` is looked up by address."""
    if actor.get("objectType") == "Group":
        return None
    account = actor.get("account")
    if isinstance(account, dict):
        return str(account["name"])[:255]
    email = _mbox_email(actor)
    return emails.get(email) if email is not None else None
