"""xAPI statement attachments on the wire: the `multipart/mixed` body of PUT/POST statements and of
GET statements with `attachments=true` (xAPI 1.0.3 Communication 1.5.2, RFC 2046 section 5.1).

Pure functions over bytes, no framework: `parse_statement_request` splits a request body into the
statements part and verified attachment parts, `check_attachments` matches those parts against the
statements' attachment objects, and `build_multipart` renders a response body.
"""

import hashlib
import re
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any

MAX_PARTS = 100
_CRLF = b"\r\n"
_LWSP = b" \t"
# RFC 2046 bchars; a space may not end the boundary.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEX = re.compile(r"[0-9a-f]+")
# The SHA-2 functions a hex digest of each length can come from (1.5.2.s4.b4 names 256, 384 and 512).
_SHA2_BY_HEX_LENGTH = {56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}


@dataclass(frozen=True)
class Attachment:
    """The raw data of one attachment, named by its SHA-2 digest."""

    sha2: str  # lowercase hex digest, as named in the part's X-Experience-API-Hash header
    content_type: str  # the part's Content-Type; empty when the part carried none
    content: bytes


class MultipartError(ValueError):
    """The multipart body breaks a rule; str() says what, e.g. 'part 2: X-Experience-API-Hash does not match ...'."""


def parse_statement_request(content_type: str, body: bytes) -> tuple[bytes, list[Attachment]]:
    """Split a `multipart/mixed` statements request into the JSON bytes of its first part and its attachments.

    Each attachment's X-Experience-API-Hash is verified against its content; attachments repeated
    under the same hash are kept once.
    """
    boundary = _boundary_of(content_type)
    parts = _split(body, b"--" + boundary.encode("ascii"))
    if not parts:
        raise MultipartError("the body has no parts; the first part must hold the statements")
    headers, statements = _read_part(1, parts[0])
    first_type = headers.get("content-type")
    if first_type is None:
        raise MultipartError("part 1: Content-Type is missing; the statements part must be application/json")
    if _media_type(first_type) != "application/json":
        raise MultipartError(f"part 1: Content-Type must be application/json, not {first_type!r}")
    attachments: dict[str, Attachment] = {}
    for number, raw in enumerate(parts[1:], start=2):
        attachment = _attachment(number, *_read_part(number, raw))
        attachments.setdefault(attachment.sha2, attachment)
    return statements, list(attachments.values())


def check_attachments(statements: list[dict[str, Any]], attachments: list[Attachment]) -> None:
    """Check that the statements and the received parts account for each other, or raise `MultipartError`.

    Every attachment object (in a statement or its SubStatement) without a fileUrl needs a part with
    its sha2; every part must be named by some attachment object; where both give a content type,
    the media types must agree. Call it with no attachments for an `application/json` request.
    """
    parts = {attachment.sha2.lower(): attachment for attachment in attachments}
    named: set[str] = set()
    for where, obj in _attachment_objects(statements):
        sha2 = obj.get("sha2")
        if not isinstance(sha2, str) or not sha2:
            raise MultipartError(f"{where}: sha2 is missing")
        part = parts.get(sha2.strip().lower())
        if part is None:
            if not _populated(obj.get("fileUrl")):
                raise MultipartError(f"{where}: no fileUrl and no part with X-Experience-API-Hash {sha2}")
            continue
        named.add(part.sha2.lower())
        declared = obj.get("contentType")
        if part.content_type and isinstance(declared, str) and _media_type(declared) != _media_type(part.content_type):
            raise MultipartError(
                f"{where}: contentType {declared!r} does not match its part's Content-Type {part.content_type!r}"
            )
    for attachment in attachments:
        if attachment.sha2.lower() not in named:
            raise MultipartError(f"the part with X-Experience-API-Hash {attachment.sha2} matches no attachment")


def build_multipart(statements_json: bytes, attachments: Sequence[Attachment]) -> tuple[str, bytes]:
    """Render a `multipart/mixed` body: the statements, then each distinct attachment; returns (Content-Type, body)."""
    unique: dict[str, Attachment] = {}
    for attachment in attachments:
        if not _HEX.fullmatch(attachment.sha2) or re.search(r"[\r\n]", attachment.content_type):
            raise ValueError(f"attachment {attachment.sha2!r} cannot be written as a part header")
        unique.setdefault(attachment.sha2, attachment)
    contents = [statements_json, *(a.content for a in unique.values())]
    while True:  # a fresh random boundary is all but certain to be absent; check anyway
        boundary = f"xapi-{secrets.token_hex(16)}"
        if not any(boundary.encode("ascii") in content for content in contents):
            break
    delimiter = b"--" + boundary.encode("ascii")
    chunks = [delimiter, _CRLF, b"Content-Type: application/json", _CRLF, _CRLF, statements_json, _CRLF]
    for attachment in unique.values():
        head = (
            f"Content-Type: {attachment.content_type or 'application/octet-stream'}\r\n"
            "Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {attachment.sha2}\r\n\r\n"
        )
        chunks += [delimiter, _CRLF, head.encode("utf-8"), attachment.content, _CRLF]
    chunks += [delimiter, b"--", _CRLF]
    return f"multipart/mixed; boundary={boundary}", b"".join(chunks)


def _media_type(content_type: str) -> str:
    """The `type/subtype` of a Content-Type value, lowercased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _boundary_of(content_type: str) -> str:
    header = Message()
    header["Content-Type"] = content_type
    if header.get_content_type() != "multipart/mixed":
        raise MultipartError(f"Content-Type must be multipart/mixed, not {content_type!r}")
    boundary = header.get_boundary()
    if not boundary:
        raise MultipartError("Content-Type multipart/mixed needs a boundary parameter")
    if not _BOUNDARY.fullmatch(boundary):
        raise MultipartError("the boundary must be 1 to 70 characters allowed by RFC 2046")
    return boundary


def _split(body: bytes, delimiter: bytes) -> list[bytes]:
    """The raw parts between delimiter lines; the preamble and epilogue are dropped (RFC 2046)."""
    tail = _delimiter_tail(body, len(delimiter)) if body.startswith(delimiter) else None
    if tail is None:
        found = _next_delimiter(body, delimiter, 0)
        if found is None:
            raise MultipartError(
                "no boundary delimiter line was found (lines must end in CRLF and start with '--' and the boundary)"
            )
        tail = found[1:]
    start, closed = tail
    parts: list[bytes] = []
    while not closed:
        if start >= len(body):
            raise MultipartError("the body ends without the closing boundary delimiter")
        found = _next_delimiter(body, delimiter, start)
        if found is None:
            raise MultipartError("the body ends without the closing boundary delimiter")
        end, next_start, closed = found
        parts.append(body[start:end])
        if len(parts) > MAX_PARTS:
            raise MultipartError(f"the body has more than {MAX_PARTS} parts")
        start = next_start
    return parts


def _next_delimiter(body: bytes, delimiter: bytes, start: int) -> tuple[int, int, bool] | None:
    """The next delimiter line from `start`: (where the part before it ends, where the next part starts, closing?)."""
    needle = _CRLF + delimiter
    at = body.find(needle, start)
    while at != -1:
        tail = _delimiter_tail(body, at + len(needle))
        if tail is not None:
            return at, *tail
        at = body.find(needle, at + 1)  # boundary-like bytes inside a part, not a delimiter line
    return None


def _delimiter_tail(body: bytes, at: int) -> tuple[int, bool] | None:
    """After a boundary at `at`: (where the line ends, closing?), or None when more bytes follow on that line."""
    closed = body.startswith(b"--", at)
    at += 2 if closed else 0
    while at < len(body) and body[at] in _LWSP:  # transport padding
        at += 1
    if body.startswith(_CRLF, at):
        return at + 2, closed
    if at == len(body):
        return at, closed
    return None


def _read_part(number: int, raw: bytes) -> tuple[dict[str, str], bytes]:
    """A part's headers (names lowercased) and its content, byte for byte."""
    if raw.startswith(_CRLF):
        return {}, raw[2:]
    if not raw:
        return {}, b""
    end = raw.find(_CRLF + _CRLF)
    if end == -1:
        raise MultipartError(f"part {number}: the headers are not followed by an empty line")
    headers: dict[str, str] = {}
    last: str | None = None
    for line in raw[:end].split(_CRLF):
        if b"\r" in line or b"\n" in line:
            raise MultipartError(f"part {number}: header lines must end in CRLF")
        if line[:1] in (b" ", b"\t") and last is not None:  # a folded continuation line
            headers[last] += " " + _decode(number, line).strip()
            continue
        name, colon, value = line.partition(b":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise MultipartError(f"part {number}: malformed header line {line[:80]!r}")
        last = name.decode("ascii").lower()
        if last in headers:
            raise MultipartError(f"part {number}: header {name.decode('ascii')} is given more than once")
        headers[last] = _decode(number, value).strip()
    return headers, raw[end + 4 :]


def _decode(number: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MultipartError(f"part {number}: a header is not UTF-8") from None


def _attachment(number: int, headers: dict[str, str], content: bytes) -> Attachment:
    declared = headers.get("x-experience-api-hash")
    if declared is None:
        raise MultipartError(f"part {number}: X-Experience-API-Hash is missing")
    sha2 = declared.lower()
    algorithm = _SHA2_BY_HEX_LENGTH.get(len(sha2))
    if algorithm is None or not _HEX.fullmatch(sha2):
        raise MultipartError(f"part {number}: X-Experience-API-Hash {declared!r} is not a SHA-2 hex digest")
    if hashlib.new(algorithm, content).hexdigest() != sha2:
        raise MultipartError(f"part {number}: X-Experience-API-Hash does not match the content")
    # Senders MUST send `binary` (1.5.2.s2.b2.b4); a missing header is assumed binary (1.5.2.s3.b6).
    encoding = headers.get("content-transfer-encoding", "binary")
    if encoding.lower() != "binary":
        raise MultipartError(f"part {number}: Content-Transfer-Encoding must be binary, not {encoding!r}")
    length = headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) != len(content)):
        raise MultipartError(f"part {number}: Content-Length {length!r} does not match the content")
    return Attachment(sha2=sha2, content_type=headers.get("content-type", ""), content=content)


def _attachment_objects(statements: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each attachment object with where it sits, e.g. ('statement 2, SubStatement, attachment 1', {...})."""
    for number, statement in enumerate(statements, start=1):
        if not isinstance(statement, dict):
            raise MultipartError(f"statement {number} is not an object")
        holders = [(f"statement {number}", statement)]
        sub = statement.get("object")
        if isinstance(sub, dict) and sub.get("objectType") == "SubStatement":
            holders.append((f"statement {number}, SubStatement", sub))
        for where, holder in holders:
            objects = holder.get("attachments", [])
            if not isinstance(objects, list):
                raise MultipartError(f"{where}: attachments must be an array")
            for index, obj in enumerate(objects, start=1):
                if not isinstance(obj, dict):
                    raise MultipartError(f"{where}, attachment {index} is not an object")
                yield f"{where}, attachment {index}", obj


def _populated(file_url: Any) -> bool:
    return isinstance(file_url, str) and bool(file_url.strip())
