"""`kit.pagination`: RFC 8288 page links, page headers, and opaque cursors."""

import base64
import re
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from fastapi import Request, Response

from kit.errors import BadRequestError
from kit.pagination import (
    DEFAULT_LIMIT,
    OffsetPage,
    decode_cursor,
    encode_cursor,
    link_header,
    offset_page,
    set_page_headers,
)

LINK = re.compile(r'<(?P<url>[^>]*)>; rel="(?P<rel>[a-z]+)"')


def request(query: str = "") -> Request:
    """A GET of `/learners` with `query`, as a route would receive it."""
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "server": ("api.test", 80),
            "path": "/learners",
            "query_string": query.encode(),
            "headers": [(b"host", b"api.test")],
        }
    )


def links(header: str) -> dict[str, dict[str, list[str]]]:
    """rel -> query parameters of each link in a `Link` header."""
    found = {m["rel"]: m["url"] for m in LINK.finditer(header)}
    assert ", ".join(f'<{url}>; rel="{rel}"' for rel, url in found.items()) == header
    for url in found.values():
        assert url.startswith("http://api.test/learners?")
    return {rel: parse_qs(urlsplit(url).query) for rel, url in found.items()}


def offsets(header: str) -> dict[str, int]:
    """rel -> offset of each link in a `Link` header."""
    return {rel: int(query["offset"][0]) for rel, query in links(header).items()}


class TestLinkHeader:
    def test_a_middle_page_links_all_four_ways(self) -> None:
        header = link_header(request("limit=10&offset=10"), OffsetPage(limit=10, offset=10), total=35)
        assert offsets(header) == {"first": 0, "prev": 0, "next": 20, "last": 30}

    def test_the_first_page_has_no_prev(self) -> None:
        header = link_header(request(), OffsetPage(limit=10, offset=0), total=35)
        assert offsets(header) == {"first": 0, "next": 10, "last": 30}

    def test_the_last_page_has_no_next(self) -> None:
        header = link_header(request("limit=10&offset=30"), OffsetPage(limit=10, offset=30), total=35)
        assert offsets(header) == {"first": 0, "prev": 20, "last": 30}

    def test_an_empty_collection_links_only_first_and_last(self) -> None:
        header = link_header(request(), OffsetPage(limit=10, offset=0), total=0)
        assert offsets(header) == {"first": 0, "last": 0}

    def test_a_single_full_page_has_neither_prev_nor_next(self) -> None:
        header = link_header(request(), OffsetPage(limit=10, offset=0), total=10)
        assert offsets(header) == {"first": 0, "last": 0}

    def test_the_last_page_of_an_exact_multiple_starts_one_page_before_the_end(self) -> None:
        header = link_header(request(), OffsetPage(limit=10, offset=0), total=30)
        assert offsets(header)["last"] == 20

    def test_prev_of_an_unaligned_offset_does_not_go_below_zero(self) -> None:
        header = link_header(request("offset=5"), OffsetPage(limit=10, offset=5), total=35)
        assert offsets(header) == {"first": 0, "prev": 0, "next": 15, "last": 30}

    def test_prev_of_an_offset_past_the_end_is_the_last_page(self) -> None:
        header = link_header(request("offset=90"), OffsetPage(limit=10, offset=90), total=35)
        assert offsets(header) == {"first": 0, "prev": 30, "last": 30}

    def test_every_link_carries_the_limit_and_keeps_other_parameters(self) -> None:
        header = link_header(request("school=s1&limit=10&offset=10"), OffsetPage(limit=10, offset=10), total=35)
        for query in links(header).values():
            assert query["school"] == ["s1"]
            assert query["limit"] == ["10"]
            assert len(query["offset"]) == 1


class TestSetPageHeaders:
    def test_the_total_and_the_links_are_set(self) -> None:
        response = Response()
        page = OffsetPage(limit=2, offset=2)
        set_page_headers(request("limit=2&offset=2"), response, page, total=5)
        assert response.headers["X-Total-Count"] == "5"
        assert offsets(response.headers["Link"]) == {"first": 0, "prev": 0, "next": 4, "last": 4}


class TestOffsetPage:
    def test_defaults(self) -> None:
        assert offset_page() == OffsetPage(limit=DEFAULT_LIMIT, offset=0)

    def test_given_values_are_kept(self) -> None:
        assert offset_page(limit=5, offset=15) == OffsetPage(limit=5, offset=15)


class TestCursor:
    @pytest.mark.parametrize(
        "position",
        [
            {"id": "l-a1"},
            {"family_name": "Müller", "id": "l/+?&=", "n": 3, "at": "2024-06-01T12:00:00+00:00"},
            {},
        ],
    )
    def test_a_cursor_round_trips(self, position: dict[str, object]) -> None:
        assert decode_cursor(encode_cursor(position)) == position

    def test_a_cursor_is_url_safe_and_unpadded(self) -> None:
        for size in range(1, 8):
            cursor = encode_cursor({"id": "?" * size + "~>"})
            assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor)

    @pytest.mark.parametrize(
        "cursor",
        [
            "not a cursor!",
            "",
            "x",
            base64.urlsafe_b64encode(b"{not json").decode(),
            base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
            base64.urlsafe_b64encode(orjson.dumps([1, 2])).decode(),
            base64.urlsafe_b64encode(orjson.dumps("id")).decode(),
            base64.urlsafe_b64encode(orjson.dumps(None)).decode(),
        ],
    )
    def test_a_malformed_cursor_is_a_bad_request_naming_the_cursor(self, cursor: str) -> None:
        with pytest.raises(BadRequestError, match=r"^The cursor is malformed\.$") as raised:
            decode_cursor(cursor)
        assert raised.value.status == 400
        assert raised.value.extra == {"field": "cursor"}
