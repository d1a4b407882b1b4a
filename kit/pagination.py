"""Paging helpers: offset pages with RFC 8288 `Link` and `X-Total-Count`, and opaque cursors."""

import base64
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response

from kit.errors import BadRequestError

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class OffsetPage:
    """The requested window of a collection."""

    limit: int
    offset: int


def offset_page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="Items to skip.")] = 0,
) -> OffsetPage:
    """Read `limit` and `offset` from the query string (FastAPI dependency)."""
    return OffsetPage(limit=limit, offset=offset)


OffsetPageDep = Annotated[OffsetPage, Depends(offset_page)]


def link_header(request: Request, page: OffsetPage, total: int) -> str:
    """RFC 8288 links to the first, previous, next and last pages."""
    last_offset = max(0, (total - 1) // page.limit * page.limit) if total else 0
    targets = {"first": 0, "last": last_offset}
    if page.offset > 0:
        targets["prev"] = min(max(0, page.offset - page.limit), last_offset)  # past the end: the last page
    if page.offset + page.limit < total:
        targets["next"] = page.offset + page.limit
    links = []
    for rel, offset in targets.items():
        url = request.url.include_query_params(limit=page.limit, offset=offset)
        links.append(f'<{url}>; rel="{rel}"')
    return ", ".join(links)


def set_page_headers(request: Request, response: Response, page: OffsetPage, total: int) -> None:
    """Add `X-Total-Count` and `Link` to a collection response."""
    response.headers["X-Total-Count"] = str(total)
    response.headers["Link"] = link_header(request, page, total)


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor for `position` (the sort key of the last item seen)."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The position inside a cursor, or `BadRequestError` naming the cursor as malformed."""
    try:
        value = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequestError("The cursor is malformed.", field="cursor") from exc
    if not isinstance(value, dict):
        raise BadRequestError("The cursor is malformed.", field="cursor")
    return value
