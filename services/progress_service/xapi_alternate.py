"""xAPI 1.0.3's Alternate Request Syntax (Communication 1.3), as ASGI middleware.

A client that can only POST and cannot set headers (IE 8/9's XDomainRequest) sends
`POST <resource>?method=PUT` with an `application/x-www-form-urlencoded` body holding the headers,
the other query parameters and the content. This middleware owns turning such a request into the
ordinary one before the app sees it, and refusing the malformed ones with a 400. The syntax is
gone from xAPI 2.0 (IEEE 9274.1.1), so a 2.x request using it is refused too.
"""

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import problem_response

MAX_FORM_BYTES = 1_000_000
METHODS = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"})
# Form fields the LRS treats as headers (1.3.s3.b6-b7), by lowercase name; Content-Transfer-Encoding is not one.
_HEADER_FIELDS = (
    "Authorization",
    "X-Experience-API-Version",
    "Content-Type",
    "Content-Length",
    "If-Match",
    "If-None-Match",
)
FORM_HEADERS = {name.lower(): name for name in _HEADER_FIELDS}
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_VERSION = "x-experience-api-version"
_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


class AlternateRequestError(Exception):
    """An alternate-syntax request this LRS refuses; carries the problem's status and field."""

    def __init__(self, detail: str, field: str, status: int = 400) -> None:
        super().__init__(detail)
        self.detail, self.field, self.status = detail, field, status


class AlternateRequestMiddleware:
    """Rewrites `POST <prefix>/...?method=X` form requests into the request they stand for."""

    def __init__(self, app: ASGIApp, prefix: str = "/xapi", max_form_bytes: int = MAX_FORM_BYTES) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")
        self.max_form_bytes = max_form_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http" or not self._covers(str(scope["path"])):
            await self.app(scope, receive, send)
            return
        query = parse_qsl(bytes(scope["query_string"]).decode("latin-1"), keep_blank_values=True)
        if not any(name == "method" for name, _ in query):
            await self.app(scope, receive, send)  # the ordinary syntax: untouched, body unread
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        form: list[tuple[str, str]] | None = None
        try:
            method = _check_request(str(scope["method"]), query, headers)
            form = await self._read_form(headers, receive)
            if form is None:  # the client went away mid-body
                return
            _refuse_version_2(_form_version(form))
            rewritten, body = _rewrite(scope, method, headers, form)
        except AlternateRequestError as error:
            await _refuse(error, headers, form, scope, receive, send)
            return
        await self.app(rewritten, _replay(body, receive), _headers_only(send) if method == "HEAD" else send)

    def _covers(self, path: str) -> bool:
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def _read_form(self, headers: list[tuple[bytes, bytes]], receive: Receive) -> list[tuple[str, str]] | None:
        """The form fields of the body, refusing (413) past the size limit; None if the client disconnected."""
        declared = _header(headers, "content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_form_bytes:
            raise _too_large(self.max_form_bytes)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = bytes(message.get("body", b""))
            size += len(chunk)
            if size > self.max_form_bytes:
                raise _too_large(self.max_form_bytes)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return _parse_form(b"".join(chunks))


def _check_request(http_method: str, query: list[tuple[str, str]], headers: list[tuple[bytes, bytes]]) -> str:
    """The intended method, after the rules that need no body (1.3.s3.b1-b3, b9)."""
    _refuse_version_2(_header(headers, _VERSION))
    if http_method != "POST":
        raise AlternateRequestError(f"The alternate request syntax must be sent as POST, not {http_method}.", "method")
    for name, _ in query:
        if name != "method":
            raise AlternateRequestError(
                f"With the alternate request syntax, {name!r} must be a form field, not a query parameter.", name
            )
    if len(query) > 1:
        raise AlternateRequestError("The method query parameter is given more than once.", "method")
    method = query[0][1]
    if method not in METHODS:
        raise AlternateRequestError(f"method must be one of {', '.join(sorted(METHODS))}, not {method!r}.", "method")
    content_type = _header(headers, "content-type")
    # XDomainRequest, the client this syntax exists for, cannot set Content-Type: accept none, refuse others.
    if content_type is not None and content_type.split(";", 1)[0].strip().lower() != FORM_CONTENT_TYPE:
        raise AlternateRequestError(
            f"The alternate request syntax needs Content-Type {FORM_CONTENT_TYPE}, not {content_type!r}.",
            "Content-Type",
        )
    return method


def _parse_form(body: bytes) -> list[tuple[str, str]]:
    """The form fields, each a plausible parameter name given once; the content is UTF-8 (1.3.s3.b5)."""
    try:
        fields = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=1000
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise AlternateRequestError(f"The body is not a URL-encoded UTF-8 form: {error}.", "body") from None
    seen: set[str] = set()
    for name, _ in fields:
        if not _PARAM_NAME.fullmatch(name):
            raise AlternateRequestError(f"Form field {name[:40]!r} is not a parameter name.", "body")
        key = name.lower() if name.lower() in FORM_HEADERS else name  # header names ignore case
        if key in seen:
            raise AlternateRequestError(f"Form field {name!r} is given more than once.", name)
        if name == "method":
            raise AlternateRequestError("method belongs in the query string, not in the form.", "method")
        seen.add(key)
    return fields


def _form_version(form: list[tuple[str, str]] | None) -> str | None:
    return next((value for name, value in form or [] if name.lower() == _VERSION), None)


def _is_version_2(version: str | None) -> bool:
    major = (version or "").strip().split(".", 1)[0]
    return major.isdigit() and int(major) >= 2


def _refuse_version_2(version: str | None) -> None:
    """Refuse the syntax for xAPI 2.0 and later, which removed it."""
    if _is_version_2(version):
        raise AlternateRequestError(
            f"The alternate request syntax was removed in xAPI 2.0; send {version} requests with the ordinary syntax.",
            "X-Experience-API-Version",
        )


def _rewrite(
    scope: Scope, method: str, headers: list[tuple[bytes, bytes]], form: list[tuple[str, str]]
) -> tuple[Scope, bytes]:
    """The ordinary request's scope and body: form headers replace sent ones, other fields become the query."""
    form_headers = {name.lower(): value for name, value in form if name.lower() in FORM_HEADERS}
    content = next((value for name, value in form if name == "content"), None)
    params = [(name, value) for name, value in form if name != "content" and name.lower() not in FORM_HEADERS]
    body = content.encode("utf-8") if content is not None else b""
    # Content-Length always states the real byte length: clients often count characters, not bytes.
    form_headers.pop("content-length", None)
    replaced = {*form_headers, "content-type", "content-length", "transfer-encoding"}
    new_headers = [(k, v) for k, v in headers if k.decode("latin-1").lower() not in replaced]
    for name, value in form_headers.items():
        if "\r" in value or "\n" in value:
            raise AlternateRequestError(f"Form field {FORM_HEADERS[name]} holds a line break.", FORM_HEADERS[name])
        new_headers.append((name.encode("latin-1"), value.encode("utf-8")))
    if content is not None or method in ("PUT", "POST"):
        new_headers.append((b"content-length", str(len(body)).encode("ascii")))
    rewritten = dict(scope)
    rewritten.update(method=method, headers=new_headers, query_string=urlencode(params).encode("ascii"))
    return rewritten, body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive channel that yields `body` once, then defers to the real one (for disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _headers_only(send: Send) -> Send:
    """For a HEAD carried by a POST the server sends bodies, so drop them here (1.1.s3.b1 lets Content-Length go)."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return send_head


async def _refuse(
    error: AlternateRequestError,
    headers: list[tuple[bytes, bytes]],
    form: list[tuple[str, str]] | None,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Answer with a problem document, echoing the xAPI version the request spoke (3.3.s3.b1)."""
    version_2 = _is_version_2(_header(headers, _VERSION)) or _is_version_2(_form_version(form))
    version = "2.0.0" if version_2 else "1.0.3"  # the syntax is 1.0.3's unless the request claimed 2.x
    title = "Payload too large" if error.status == 413 else "Bad request"
    code = "payload_too_large" if error.status == 413 else "bad_request"
    response = problem_response(
        error.status, title, error.detail, code, {"field": error.field}, {"X-Experience-API-Version": version}
    )
    await response(scope, receive, send)


def _header(headers: Iterable[tuple[bytes, bytes]], name: str) -> str | None:
    """The first value of header `name` (lowercase), if sent."""
    wanted = name.encode("latin-1")
    return next((v.decode("latin-1") for k, v in headers if k.lower() == wanted), None)


def _too_large(limit: int) -> AlternateRequestError:
    return AlternateRequestError(f"The form body is over {limit} bytes.", "body", status=413)
