"""SQL conditions matching a column against many keys at once, in as few parameters as the database allows."""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

IN_CHUNK = 1_000
"""Keys per `IN (...)` list (SQLite)."""
ARRAY_CHUNK = 50_000
"""Keys per `= ANY(...)` condition on PostgreSQL (index probes, whatever the table's size)."""


def is_postgresql(connection: AsyncConnection) -> bool:
    """Whether `connection` is to PostgreSQL."""
    return connection.dialect.name == "postgresql"


def _any_of(column: sa.ColumnElement[Any], keys: Sequence[str]) -> sa.ColumnElement[bool]:
    """`column = ANY(...)` over `keys` in one parameter, sent as one string when no key holds a comma.

    sourcedIds never do; one joined string costs the driver nothing, where a list is dumped key by key.
    """
    joined = ",".join(keys)
    if joined.count(",") == len(keys) - 1:
        return column == sa.any_(sa.func.string_to_array(sa.bindparam(None, joined, type_=sa.Text()), ","))
    return column == sa.any_(sa.bindparam(None, list(keys), type_=postgresql.ARRAY(sa.String())))


def among(
    connection: AsyncConnection, column: sa.ColumnElement[Any], keys: Sequence[str]
) -> Iterator[sa.ColumnElement[bool]]:
    """`column` among `keys`, as one condition per chunk: `= ANY(...)` on PostgreSQL, `IN (...)` elsewhere."""
    if is_postgresql(connection):
        for start in range(0, len(keys), ARRAY_CHUNK):
            yield _any_of(column, keys[start : start + ARRAY_CHUNK])
    else:
        for start in range(0, len(keys), IN_CHUNK):
            yield column.in_(keys[start : start + IN_CHUNK])
