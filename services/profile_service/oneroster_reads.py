"""Reading OneRoster collections: query parameters, SQL (filter, sort, page) and streamed JSON.

The filter is compiled to SQL and run by the database; paging orders by the requested sort
field and then by `sourcedId`, a unique key, so pages stay stable while writes happen.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import orjson
import sqlalchemy as sa
from fastapi import Depends, Query
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kit.key_conditions import among
from services.profile_service.oneroster_errors import OneRosterError
from services.profile_service.oneroster_filter import FilterError, parse_filter
from services.profile_service.oneroster_kinds import Kind
from services.profile_service.oneroster_sql import InvalidFilterFieldError, compile_filter

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
CHUNK = 1_000


@dataclass(frozen=True, slots=True)
class ListParams:
    """OneRoster's collection query parameters."""

    limit: int
    offset: int
    sort: str | None
    order_by: Literal["asc", "desc"]
    fields: str | None
    filter: str | None


def list_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Objects per page (at most {MAX_LIMIT}).")] = (
        DEFAULT_LIMIT
    ),
    offset: Annotated[int, Query(ge=0, description="Objects to skip.")] = 0,
    sort: Annotated[str | None, Query(description="A field to sort by; `sourcedId` breaks ties.")] = None,
    order_by: Annotated[Literal["asc", "desc"], Query(alias="orderBy", description="Sort direction.")] = "asc",
    fields: Annotated[str | None, Query(description="Comma-separated fields to return.")] = None,
    filter: Annotated[  # noqa: A002 - the spec's parameter name
        str | None, Query(description="OneRoster filter, e.g. `status='active' AND familyName~'son'`.")
    ] = None,
) -> ListParams:
    """Read the collection query parameters (FastAPI dependency)."""
    return ListParams(limit=limit, offset=offset, sort=sort, order_by=order_by, fields=fields, filter=filter)


ListParamsDep = Annotated[ListParams, Depends(list_params)]


def selected_fields(kind: Kind, fields: str | None) -> tuple[str, ...] | None:
    """The fields asked for with `fields=`, or `invalid_selection_field` naming an unknown one."""
    if fields is None:
        return None
    names = tuple(name.strip() for name in fields.split(",") if name.strip())
    unknown = [name for name in names if name not in kind.wire_fields]
    if unknown or not names:
        raise OneRosterError(
            400,
            "invalid_selection_field",
            f"Unknown field(s) for {kind.collection}: {', '.join(unknown) or '(none given)'}.",
            field="fields",
        )
    return names


def collection_query(
    kind: Kind, tenant_id: str, conditions: Sequence[sa.ColumnElement[bool]], params: ListParams
) -> sa.Select[Any]:
    """The tenant's objects of `kind` matching `conditions` and the filter, sorted, unpaged."""
    table = kind.table
    query = sa.select(table).where(table.c.tenant_id == tenant_id, *conditions)
    if params.filter is not None:
        try:
            query = query.where(compile_filter(parse_filter(params.filter), kind.filters))
        except FilterError as exc:
            raise OneRosterError(400, "invalid_filter_field", f"Malformed filter: {exc.message}", "filter") from exc
        except InvalidFilterFieldError as exc:
            raise OneRosterError(400, "invalid_filter_field", exc.message, "filter") from exc
    order: list[sa.ColumnElement[Any]] = []
    if params.sort is not None:
        column = kind.sortable.get(params.sort)
        if column is None:
            raise OneRosterError(
                400, "invalid_sort_field", f"{kind.collection} cannot be sorted by {params.sort!r}.", "sort"
            )
        order.append(column)
    order.append(table.c.sourced_id)
    return query.order_by(*(c.desc() if params.order_by == "desc" else c.asc() for c in order))


async def count_rows(connection: AsyncConnection, query: sa.Select[Any]) -> int:
    """How many rows `query` selects in all."""
    total = await connection.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    return int(total or 0)


async def fetch_page(connection: AsyncConnection, query: sa.Select[Any], limit: int, offset: int) -> list[RowMapping]:
    """One page of `query`."""
    return list((await connection.execute(query.limit(limit).offset(offset))).mappings())


async def load_children(
    connection: AsyncConnection, kind: Kind, tenant_id: str, keys: Sequence[str]
) -> dict[str, dict[str, list[RowMapping]]]:
    """The child rows (roles, agents, terms, children) of the objects `keys`, by object then list name."""
    found: dict[str, dict[str, list[RowMapping]]] = defaultdict(lambda: defaultdict(list))
    lists: list[tuple[str, sa.Table, str, Sequence[sa.ColumnElement[Any]]]] = [
        (child.name, child.table, child.parent_column, [child.table.c[c] for c in child.columns])
        for child in kind.children
    ]
    if kind.inverse_column is not None:
        lists.append(("children", kind.table, kind.inverse_column, [kind.table.c.sourced_id]))
    for name, table, parent_column, order in lists:
        parent = table.c[parent_column]
        for matching in among(connection, parent, keys):
            query = sa.select(table).where(table.c.tenant_id == tenant_id, matching).order_by(parent, *order)
            for row in (await connection.execute(query)).mappings():
                found[row[parent_column]][name].append(row)
    return found


def render(
    kind: Kind, row: RowMapping, children: Mapping[str, Sequence[RowMapping]], base: str, fields: Sequence[str] | None
) -> dict[str, Any]:
    """One object in the JSON binding, reduced to `fields` when given."""
    rendered = kind.render(row, children, base)
    return rendered if fields is None else {name: rendered[name] for name in fields}


async def stream_page(
    kind: Kind,
    rows: Sequence[RowMapping],
    children: Mapping[str, Mapping[str, Sequence[RowMapping]]],
    base: str,
    fields: Sequence[str] | None,
) -> AsyncIterator[bytes]:
    """`{"<collection>": [...]}`, serialised a chunk of objects at a time."""
    yield b'{"' + kind.collection.encode() + b'":['
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        parts = [orjson.dumps(render(kind, row, children.get(row["sourced_id"], {}), base, fields)) for row in chunk]
        yield (b"," if start else b"") + b",".join(parts)
    yield b"]}"
