"""The `multipart/mixed` statements body: parsing and verifying it, matching parts to statements, and building it."""

import hashlib
import json
from typing import Any

import pytest

from services.progress_service.xapi_multipart import (
    MAX_PARTS,
    Attachment,
    MultipartError,
    build_multipart,
    check_attachments,
    parse_statement_request,
)

BOUNDARY = "-------314159265358979323846"
CONTENT_TYPE = f"multipart/mixed; boundary={BOUNDARY}"
STATEMENTS = b'[{"verb": {"id": "http://adlnet.gov/expapi/verbs/answered"}}]'
TEXT = b"here is a simple attachment"
TEXT_SHA256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"  # the specification's example
# Binary data with CR LF, NUL, every byte value and things that look like the boundary without being a delimiter line.
BINARY = b"".join(
    [
        bytes(range(256)),
        b"\r\n\r\n",
        f"x--{BOUNDARY}\r\n".encode(),  # not at the start of a line
        f"\r\n--{BOUNDARY}X\r\n".encode(),  # more on the line
        f"\r\n--{BOUNDARY[:-1]}\r\n".encode(),  # a prefix of the boundary
        f"\r\n--{BOUNDARY}--x\r\n".encode(),  # a closing delimiter with more on the line
        b"\r\n",
    ]
)


def sha(content: bytes, algorithm: str = "sha256") -> str:
    """The hex digest of `content`."""
    return hashlib.new(algorithm, content).hexdigest()


def part(headers: dict[str, str], content: bytes) -> bytes:
    """One body part: header lines, an empty line, the content."""
    return b"".join(f"{name}: {value}\r\n".encode() for name, value in headers.items()) + b"\r\n" + content


def attachment_part(content: bytes, digest: str | None = None, **headers: str) -> bytes:
    """An attachment part with the usual headers (overridable by keyword, `_` for `-`)."""
    fields = {"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary"}
    if digest is not None:
        fields["X-Experience-API-Hash"] = digest
    fields.update({name.replace("_", "-"): value for name, value in headers.items()})
    return part(fields, content)


def body(*parts: bytes, boundary: str = BOUNDARY, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    """A multipart body of `parts`, each after a delimiter line, closed by the closing delimiter."""
    delimiter = b"--" + boundary.encode()
    inner = b"".join(delimiter + b"\r\n" + p + b"\r\n" for p in parts)
    return preamble + inner + delimiter + b"--\r\n" + epilogue


def statements_part(content: bytes = STATEMENTS, content_type: str = "application/json") -> bytes:
    """The first part."""
    return part({"Content-Type": content_type}, content)


def statement(*attachments: dict[str, Any], sub: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A statement with these attachment objects (and a SubStatement with `sub`, when given)."""
    result: dict[str, Any] = {
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
        "attachments": list(attachments),
    }
    if sub is not None:
        result["object"] = {"objectType": "SubStatement", "attachments": sub}
    return result


def attachment_object(sha2: str, content_type: str = "text/plain", file_url: str | None = None) -> dict[str, Any]:
    """An attachment object as a statement carries it."""
    obj: dict[str, Any] = {"usageType": "http://example.com/usage", "display": {"en-US": "a"}, "sha2": sha2}
    obj.update(contentType=content_type, length=1)
    if file_url is not None:
        obj["fileUrl"] = file_url
    return obj


class TestParseGoodBodies:
    def test_the_specification_example_with_a_quoted_boundary(self) -> None:
        boundary = "abcABC0123'()+_,-./:=?"
        raw = body(
            part({"Content-Type": "application/json"}, STATEMENTS),
            b"Content-Type:text/plain\r\nContent-Transfer-Encoding:binary\r\n"
            + f"X-Experience-API-Hash:{TEXT_SHA256}\r\n\r\n".encode()
            + TEXT,
            boundary=boundary,
        )
        statements, attachments = parse_statement_request(f'multipart/mixed; boundary="{boundary}"', raw)
        assert statements == STATEMENTS
        assert attachments == [Attachment(sha2=TEXT_SHA256, content_type="text/plain", content=TEXT)]

    def test_only_the_statements_part(self) -> None:
        assert parse_statement_request(CONTENT_TYPE, body(statements_part())) == (STATEMENTS, [])

    def test_several_attachments_keep_binary_content_byte_for_byte(self) -> None:
        image = bytes(range(255, -1, -1)) * 3
        raw = body(
            statements_part(),
            attachment_part(TEXT, TEXT_SHA256),
            attachment_part(BINARY, sha(BINARY), Content_Type="application/octet-stream"),
            attachment_part(image, sha(image), Content_Type="image/png"),
        )
        statements, attachments = parse_statement_request(CONTENT_TYPE, raw)
        assert statements == STATEMENTS
        assert [(a.content, a.content_type) for a in attachments] == [
            (TEXT, "text/plain"),
            (BINARY, "application/octet-stream"),
            (image, "image/png"),
        ]

    @pytest.mark.parametrize("algorithm", ["sha224", "sha256", "sha384", "sha512"])
    def test_each_sha2_length_is_verified(self, algorithm: str) -> None:
        raw = body(statements_part(), attachment_part(BINARY, sha(BINARY, algorithm)))
        (attachment,) = parse_statement_request(CONTENT_TYPE, raw)[1]
        assert attachment.sha2 == sha(BINARY, algorithm)
        assert attachment.content == BINARY

    def test_an_uppercase_hash_is_lowercased(self) -> None:
        raw = body(statements_part(), attachment_part(TEXT, TEXT_SHA256.upper()))
        assert parse_statement_request(CONTENT_TYPE, raw)[1][0].sha2 == TEXT_SHA256

    def test_preamble_epilogue_transport_padding_and_header_case_are_tolerated(self) -> None:
        raw = body(
            statements_part(content_type="Application/JSON; charset=UTF-8"),
            part({"x-experience-api-hash": TEXT_SHA256, "content-transfer-encoding": "BINARY"}, TEXT),
            preamble=b"ignored preamble\r\n",
            epilogue=b"ignored epilogue",
        ).replace(f"--{BOUNDARY}\r\n".encode(), f"--{BOUNDARY} \t\r\n".encode())
        statements, attachments = parse_statement_request(f"Multipart/Mixed; Boundary={BOUNDARY}", raw)
        assert statements == STATEMENTS
        assert attachments == [Attachment(TEXT_SHA256, "", TEXT)]

    def test_a_missing_content_transfer_encoding_is_assumed_binary(self) -> None:
        raw = body(statements_part(), part({"X-Experience-API-Hash": TEXT_SHA256}, TEXT))
        assert parse_statement_request(CONTENT_TYPE, raw)[1][0].content == TEXT

    def test_a_matching_part_content_length_is_accepted(self) -> None:
        raw = body(statements_part(), attachment_part(TEXT, TEXT_SHA256, Content_Length=str(len(TEXT))))
        assert parse_statement_request(CONTENT_TYPE, raw)[1][0].content == TEXT

    def test_a_repeated_attachment_is_kept_once(self) -> None:
        raw = body(statements_part(), attachment_part(TEXT, TEXT_SHA256), attachment_part(TEXT, TEXT_SHA256))
        assert len(parse_statement_request(CONTENT_TYPE, raw)[1]) == 1

    def test_empty_content_and_a_body_ending_at_the_closing_delimiter(self) -> None:
        raw = body(statements_part(), attachment_part(b"", sha(b"")))[: -len(b"\r\n")]
        assert parse_statement_request(CONTENT_TYPE, raw)[1][0].content == b""


class TestParseViolations:
    @pytest.mark.parametrize(
        ("content_type", "message"),
        [
            ("multipart/form-data; boundary=x", "must be multipart/mixed"),
            ("application/json", "must be multipart/mixed"),
            ("multipart/mixed;", "needs a boundary"),
            ("multipart/mixed; boundary=", "needs a boundary"),
            ("multipart/mixed; boundary=" + "a" * 71, "1 to 70 characters"),
            ('multipart/mixed; boundary="a\\"b"', "1 to 70 characters"),
        ],
    )
    def test_the_content_type_needs_multipart_mixed_and_a_valid_boundary(self, content_type: str, message: str) -> None:
        with pytest.raises(MultipartError, match=message):
            parse_statement_request(content_type, body(statements_part()))

    @pytest.mark.parametrize(
        ("raw", "message"),
        [
            (b"", "no boundary delimiter line"),
            (statements_part(), "no boundary delimiter line"),
            (body(statements_part()).replace(b"\r\n", b"\n"), "no boundary delimiter line"),
            (body(statements_part())[: -len(f"--{BOUNDARY}--\r\n")], "without the closing boundary"),
            (f"--{BOUNDARY}\r\n".encode() + statements_part(), "without the closing boundary"),
            (f"--{BOUNDARY}".encode(), "without the closing boundary"),
            (f"--{BOUNDARY}--\r\n".encode(), "no parts"),
            (body(statements_part()).replace(b"--\r\n", b"--tail\r\n"), "without the closing boundary"),
        ],
    )
    def test_the_delimiters_must_be_there(self, raw: bytes, message: str) -> None:
        with pytest.raises(MultipartError, match=message):
            parse_statement_request(CONTENT_TYPE, raw)

    def test_a_missing_delimiter_between_parts_leaves_the_attachment_inside_the_statements(self) -> None:
        # XAPI-00130: without its delimiter the attachment is part of the (now invalid) JSON, and the
        # statement's attachment object has no part.
        raw = body(statements_part(STATEMENTS + b"\r\n" + attachment_part(TEXT, TEXT_SHA256)))
        attachments = parse_statement_request(CONTENT_TYPE, raw)[1]
        assert attachments == []
        with pytest.raises(MultipartError, match="no fileUrl and no part"):
            check_attachments([statement(attachment_object(TEXT_SHA256))], attachments)

    @pytest.mark.parametrize(
        ("first", "message"),
        [
            (part({"Content-Type": "text/plain"}, STATEMENTS), r"part 1: Content-Type must be application/json"),
            (part({"X-Other": "1"}, STATEMENTS), "part 1: Content-Type is missing"),
            (b"\r\n" + STATEMENTS, "part 1: Content-Type is missing"),
        ],
    )
    def test_the_first_part_must_be_json(self, first: bytes, message: str) -> None:
        with pytest.raises(MultipartError, match=message):
            parse_statement_request(CONTENT_TYPE, body(first, attachment_part(TEXT, TEXT_SHA256)))

    @pytest.mark.parametrize(
        ("attachment", "message"),
        [
            (part({"Content-Type": "text/plain"}, TEXT), "part 2: X-Experience-API-Hash is missing"),
            (statements_part(), "part 2: X-Experience-API-Hash is missing"),  # XAPI-00133: statements split in two
            (attachment_part(TEXT, sha(b"other")), "part 2: X-Experience-API-Hash does not match the content"),
            (attachment_part(TEXT, sha(TEXT, "sha1")), "is not a SHA-2 hex digest"),
            (attachment_part(TEXT, "z" * 64), "is not a SHA-2 hex digest"),
            (attachment_part(TEXT, TEXT_SHA256, Content_Transfer_Encoding="base64"), "must be binary, not 'base64'"),
            (attachment_part(TEXT, TEXT_SHA256, Content_Length="26"), "Content-Length '26' does not match"),
            (attachment_part(TEXT, TEXT_SHA256, Content_Length="many"), "Content-Length 'many' does not match"),
            (b"Content-Type: text/plain\r\n" + TEXT_SHA256.encode() + b"\r\n\r\n" + TEXT, "malformed header line"),
            (b"Content-Type: text/plain\r\nX-Experience-API-Hash: " + TEXT_SHA256.encode(), "not followed by an empty"),
            (b"Content-Type: text/plain\nX-Experience-API-Hash: x\r\n\r\n" + TEXT, "must end in CRLF"),
            (attachment_part(TEXT, TEXT_SHA256).replace(b"text/plain", b"text/\xffplain"), "is not UTF-8"),
            (b"Content-Type: a\r\nContent-Type: b\r\n\r\n" + TEXT, "given more than once"),
        ],
    )
    def test_each_attachment_part_rule(self, attachment: bytes, message: str) -> None:
        with pytest.raises(MultipartError, match=message):
            parse_statement_request(CONTENT_TYPE, body(statements_part(), attachment))

    def test_a_folded_header_line_continues_the_previous_header(self) -> None:
        folded = f"Content-Type: text/plain;\r\n charset=ascii\r\nX-Experience-API-Hash: {TEXT_SHA256}\r\n\r\n"
        (attachment,) = parse_statement_request(CONTENT_TYPE, body(statements_part(), folded.encode() + TEXT))[1]
        assert attachment.content_type == "text/plain; charset=ascii"

    def test_more_than_the_part_limit_is_refused(self) -> None:
        extra = [attachment_part(str(i).encode(), sha(str(i).encode())) for i in range(MAX_PARTS)]
        with pytest.raises(MultipartError, match=f"more than {MAX_PARTS} parts"):
            parse_statement_request(CONTENT_TYPE, body(statements_part(), *extra))
        assert len(parse_statement_request(CONTENT_TYPE, body(statements_part(), *extra[:-1]))[1]) == MAX_PARTS - 1


class TestCheckAttachments:
    def test_every_part_named_and_every_object_served(self) -> None:
        parts = [Attachment(TEXT_SHA256, "text/plain", TEXT), Attachment(sha(BINARY), "", BINARY)]
        statements = [
            statement(attachment_object(TEXT_SHA256, "text/plain; charset=ascii")),
            statement(attachment_object(sha(BINARY).upper(), "image/png"), attachment_object(TEXT_SHA256)),
        ]
        check_attachments(statements, parts)

    def test_objects_with_a_file_url_need_no_part(self) -> None:
        check_attachments([statement(attachment_object(TEXT_SHA256, file_url="http://over.there.com/file.txt"))], [])
        check_attachments([statement(), {"verb": {}}], [])

    def test_an_object_without_file_url_or_part_is_refused(self) -> None:
        with pytest.raises(MultipartError, match=f"statement 2, attachment 1: no fileUrl and no part .*{TEXT_SHA256}"):
            check_attachments([statement(), statement(attachment_object(TEXT_SHA256))], [])

    def test_an_empty_file_url_counts_as_none(self) -> None:
        with pytest.raises(MultipartError, match="no fileUrl"):
            check_attachments([statement(attachment_object(TEXT_SHA256, file_url=" "))], [])

    def test_a_part_no_statement_names_is_refused(self) -> None:
        parts = [Attachment(TEXT_SHA256, "text/plain", TEXT), Attachment(sha(BINARY), "", BINARY)]
        with pytest.raises(MultipartError, match=f"{sha(BINARY)} matches no attachment"):
            check_attachments([statement(attachment_object(TEXT_SHA256))], parts)

    def test_substatement_attachments_count_both_ways(self) -> None:
        parts = [Attachment(TEXT_SHA256, "text/plain", TEXT)]
        check_attachments([statement(sub=[attachment_object(TEXT_SHA256)])], parts)
        with pytest.raises(MultipartError, match="statement 1, SubStatement, attachment 1: no fileUrl"):
            check_attachments([statement(sub=[attachment_object(sha(BINARY))])], [])

    def test_declared_and_sent_media_types_must_agree(self) -> None:
        parts = [Attachment(TEXT_SHA256, "image/png", TEXT)]
        with pytest.raises(MultipartError, match=r"contentType 'text/plain' does not match .*'image/png'"):
            check_attachments([statement(attachment_object(TEXT_SHA256))], parts)

    @pytest.mark.parametrize(
        ("statements", "message"),
        [
            (["not an object"], "statement 1 is not an object"),
            ([{"attachments": {}}], "attachments must be an array"),
            ([{"attachments": ["x"]}], "attachment 1 is not an object"),
            ([{"attachments": [{"contentType": "text/plain"}]}], "sha2 is missing"),
        ],
    )
    def test_malformed_attachment_lists_are_refused(self, statements: list[Any], message: str) -> None:
        with pytest.raises(MultipartError, match=message):
            check_attachments(statements, [])


class TestBuildMultipart:
    def test_round_trips_through_the_parser(self) -> None:
        attachments = [
            Attachment(TEXT_SHA256, "text/plain", TEXT),
            Attachment(sha(BINARY, "sha512"), "application/octet-stream", BINARY),
            Attachment(TEXT_SHA256, "text/plain", TEXT),
        ]
        content_type, raw = build_multipart(STATEMENTS, attachments)
        assert content_type.startswith("multipart/mixed; boundary=")
        statements, parsed = parse_statement_request(content_type, raw)
        assert statements == STATEMENTS
        assert parsed == attachments[:2]

    def test_parts_carry_the_attachment_headers(self) -> None:
        content_type, raw = build_multipart(STATEMENTS, [Attachment(TEXT_SHA256, "", TEXT)])
        boundary = content_type.split("boundary=", 1)[1].encode()
        assert raw.startswith(b"--" + boundary + b"\r\nContent-Type: application/json\r\n\r\n" + STATEMENTS)
        assert b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n" in raw
        assert f"X-Experience-API-Hash: {TEXT_SHA256}\r\n\r\n".encode() + TEXT + b"\r\n--" + boundary + b"--\r\n" in raw
        assert raw.count(boundary) == 3

    def test_statements_only(self) -> None:
        results = json.dumps({"statements": [], "more": ""}).encode()
        assert parse_statement_request(*build_multipart(results, [])) == (results, [])

    def test_the_boundary_is_new_each_time_and_absent_from_the_content(self) -> None:
        first, _ = build_multipart(STATEMENTS, [])
        second, raw = build_multipart(first.encode(), [Attachment(sha(first.encode()), "text/plain", first.encode())])
        assert first != second
        assert raw.count(second.split("boundary=", 1)[1].encode()) == 3

    def test_an_unwritable_attachment_is_a_programming_error(self) -> None:
        with pytest.raises(ValueError, match="cannot be written"):
            build_multipart(STATEMENTS, [Attachment(TEXT_SHA256, "text/plain\r\nX-Evil: 1", TEXT)])
        with pytest.raises(ValueError, match="cannot be written"):
            build_multipart(STATEMENTS, [Attachment("not hex", "text/plain", TEXT)])
