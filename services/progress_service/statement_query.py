"""Reading statements: the GET filters, who may see what, and `more` cursors that stay consistent.

Results are ordered by `stored` (newest first unless `ascending`), ties broken by arrival order
(`id`). The first page fixes a snapshot (its time: later statements are left out) and each `more` link
carries the query, that snapshot and the last row's position, so later pages neither repeat
nor skip statements while new ones arrive. Cursors hold no secret and no grant: every page is
authorized again with the caller's own credentials, so a cursor keeps working as long as the
caller may read, well beyond the 24 hours the spec asks for.
"""

import base64
import binascii
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from kit.db import UtcDateTime
from kit.errors import BadRequestError
from services.progress_service.models import Statement, StatementActivity, StatementAgent
from services.progress_service.statement_store import credential_of_authority

DEFAULT_LIMIT = 100
MAX_LIMIT = 1_000
Format = Literal["exact", "ids", "canonical"]


@dataclass(frozen=True)
class StatementFilter:
    """A validated statements query; `learners` (None: any) and `credential` are the caller's visibility."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    format: Format = "exact"
    attachments: bool = False
    ascending: bool = False
    snapshot: datetime | None = None
    after: tuple[datetime, str] | None = None
    learners: frozenset[str] | None = field(default=None, compare=False)
    credential: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Page:
    """One page of stored statements and the filter of the next page, if there is one."""

    statements: list[Statement]
    next: StatementFilter | None


def _matching(tenant_id: str, query: StatementFilter) -> sa.Select[tuple[str]]:
    """Ids of the tenant's statements matching the content filters (agent, verb, activity, registration)."""
    conditions: list[sa.ColumnElement[bool]] = [col(Statement.tenant_id) == tenant_id]
    if query.verb is not None:
        conditions.append(col(Statement.verb_id) == query.verb)
    if query.registration is not None:
        conditions.append(col(Statement.registration) == query.registration)
    if query.agent is not None:
        agents = select(StatementAgent.statement_id).where(
            col(StatementAgent.tenant_id) == tenant_id, col(StatementAgent.ifi) == query.agent
        )
        if not query.related_agents:
            agents = agents.where(col(StatementAgent.direct))
        named: sa.ColumnElement[bool] = col(Statement.id).in_(agents)
        credential = credential_of_authority(query.agent)
        if query.related_agents and credential is not None:  # the authority the LRS wrote
            named = sa.or_(named, col(Statement.credential) == credential)
        conditions.append(named)
    if query.activity is not None:
        activities = select(StatementActivity.statement_id).where(
            col(StatementActivity.tenant_id) == tenant_id, col(StatementActivity.activity_id) == query.activity
        )
        if not query.related_activities:
            activities = activities.where(col(StatementActivity.direct))
        conditions.append(col(Statement.id).in_(activities))
    return sa.select(col(Statement.id)).where(*conditions)


def _has_content_filter(query: StatementFilter) -> bool:
    return any(v is not None for v in (query.agent, query.verb, query.activity, query.registration))


async def find_page(session: AsyncSession, tenant_id: str, query: StatementFilter) -> Page:
    """One page of the statements `query` selects, voided ones left out."""
    conditions: list[sa.ColumnElement[bool]] = [col(Statement.tenant_id) == tenant_id, ~col(Statement.voided)]
    if query.learners is not None:
        conditions.append(col(Statement.learner_id).in_(sorted(query.learners)))
    if query.credential is not None:
        conditions.append(col(Statement.credential) == query.credential)
    if _has_content_filter(query):
        # Statements that target a matching statement match too (the statement that voided it, and so on).
        matching = _matching(tenant_id, query).cte("matching", recursive=True)
        targeting = sa.select(col(Statement.id)).where(
            col(Statement.tenant_id) == tenant_id, col(Statement.statement_ref) == matching.c.id
        )
        matching = matching.union(targeting)
        conditions.append(col(Statement.id).in_(sa.select(matching.c.id)))
    if query.since is not None:
        conditions.append(col(Statement.stored) > query.since)
    if query.until is not None:
        conditions.append(col(Statement.stored) <= query.until)
    snapshot = query.snapshot or datetime.now(UTC)
    conditions.append(col(Statement.stored) <= snapshot)
    position = sa.tuple_(col(Statement.stored), col(Statement.id))
    if query.after is not None:
        after = sa.tuple_(sa.literal(query.after[0], UtcDateTime()), sa.literal(query.after[1]))
        conditions.append(position > after if query.ascending else position < after)
    order = (col(Statement.stored), col(Statement.id))
    statement = (
        select(Statement)
        .where(*conditions)
        .order_by(*(o.asc() if query.ascending else o.desc() for o in order))
        .limit(query.limit + 1)
    )
    rows = list(await session.exec(statement))
    if len(rows) <= query.limit:
        return Page(rows, None)
    rows = rows[: query.limit]
    last = rows[-1]
    return Page(rows, replace(query, snapshot=snapshot, after=(last.stored, last.id)))


_CURSOR_FIELDS = (
    *("agent", "verb", "activity", "registration", "related_activities", "related_agents", "limit"),
    *("format", "attachments", "ascending"),
)


def encode_cursor(query: StatementFilter) -> str:
    """The `more` token of the page after `query`'s (visibility is not in it: it is recomputed per request)."""
    data: dict[str, Any] = {name: getattr(query, name) for name in _CURSOR_FIELDS}
    data["since"] = query.since.isoformat() if query.since else None
    data["until"] = query.until.isoformat() if query.until else None
    data["snapshot"] = query.snapshot.isoformat() if query.snapshot else None
    assert query.after is not None
    data["after"] = [query.after[0].isoformat(), query.after[1]]
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


def decode_cursor(token: str) -> StatementFilter:
    """The query a `more` token continues, or a 400 when the token is not one of ours."""
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = data.pop("after")
        since, until, snapshot = data.pop("since"), data.pop("until"), data.pop("snapshot")
        return StatementFilter(
            **{name: data[name] for name in _CURSOR_FIELDS},
            since=datetime.fromisoformat(since) if since else None,
            until=datetime.fromisoformat(until) if until else None,
            snapshot=datetime.fromisoformat(snapshot) if snapshot else None,
            after=(datetime.fromisoformat(after[0]), str(after[1])),
        )
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
        raise BadRequestError("This `more` link is not valid.", field="more") from exc


async def find_one(session: AsyncSession, tenant_id: str, statement_id: str, voided: bool) -> Statement | None:
    """The statement with this id if its voided state is `voided` (statementId vs voidedStatementId)."""
    row = (
        await session.exec(
            select(Statement).where(col(Statement.tenant_id) == tenant_id, col(Statement.id) == statement_id.lower())
        )
    ).first()
    return row if row is not None and row.voided == voided else None


async def latest_stored(session: AsyncSession, tenant_id: str) -> datetime | None:
    """When the tenant's newest statement was stored."""
    return (
        await session.exec(select(sa.func.max(col(Statement.stored))).where(col(Statement.tenant_id) == tenant_id))
    ).one()
