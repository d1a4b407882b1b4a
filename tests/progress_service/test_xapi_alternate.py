"""xAPI 1.0.3's Alternate Request Syntax: `POST ...?method=X` form requests become the request they stand for."""

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from services.progress_service.xapi_alternate import AlternateRequestMiddleware
from tests.problems import problem

FORM = "application/x-www-form-urlencoded"
STATEMENT_ID = "c70c2b85-c294-464f-baca-cebd4fb9b348"
CONTENT = json.dumps({"id": STATEMENT_ID, "actor": {"name": "Zoë"}, "verb": {"id": "http://x/é"}}, ensure_ascii=False)


async def echo(request: Request) -> JSONResponse:
    """What the app behind the middleware sees."""
    body = await request.body()
    seen = {
        "method": request.method,
        "path": request.url.path,
        "query": request.query_params.multi_items(),
        "headers": request.headers.items(),
        "body": body.decode("utf-8"),
    }
    return JSONResponse(seen, headers={"x-seen-method": request.method})


METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]
APP = AlternateRequestMiddleware(Starlette(routes=[Route("/{path:path}", echo, methods=METHODS)]))


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """A client of the echo app behind the middleware."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://test") as c:
        yield c


def seen(response: httpx.Response) -> dict[str, Any]:
    """The request the app saw, with its headers as a dict of lists."""
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    headers: dict[str, list[str]] = {}
    for name, value in result["headers"]:
        headers.setdefault(name, []).append(value)
    result["headers"] = headers
    result["query"] = [tuple(pair) for pair in result["query"]]
    return result


def form(**fields: str) -> str:
    """A URL-encoded form; in names with capitals, `_` stands for `-` (`X_Experience_API_Version`)."""
    return urlencode({name if name.islower() else name.replace("_", "-"): value for name, value in fields.items()})


def bad_request(response: httpx.Response, field: str) -> str:
    """The detail of a 400 problem naming `field`."""
    body = problem(response, 400)
    assert body["type"] == "https://plp.dev/problems/bad_request"
    assert (body["code"], body["title"], body["field"]) == ("bad_request", "Bad request", field)
    detail: str = body["detail"]
    return detail


class TestPassThrough:
    async def test_a_request_without_method_is_untouched(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/xapi/statements?statementId=1", content=b'{"a": 1}', headers={"X-A": "1"})
        request = seen(response)
        assert (request["method"], request["query"], request["body"]) == ("POST", [("statementId", "1")], '{"a": 1}')
        assert request["headers"]["x-a"] == ["1"]

    @pytest.mark.parametrize("path", ["/other/statements", "/xapiother"])
    async def test_paths_outside_the_prefix_are_untouched(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.post(f"{path}?method=PUT", content=form(content="x"), headers={"Content-Type": FORM})
        request = seen(response)
        assert (request["method"], request["query"]) == ("POST", [("method", "PUT")])

    async def test_the_body_is_not_read_without_method(self) -> None:
        calls: list[str] = []

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def receive() -> Message:
            calls.append("receive")
            return {"type": "http.request", "body": b"x", "more_body": False}

        async def send(message: Message) -> None:
            calls.append(message["type"])

        scope = {"type": "http", "method": "POST", "path": "/xapi/statements", "query_string": b"", "headers": []}
        await AlternateRequestMiddleware(app)(scope, receive, send)
        await AlternateRequestMiddleware(app)({"type": "lifespan"}, receive, send)
        assert calls == ["http.response.start", "http.response.body"] * 2


class TestRewrite:
    async def test_a_put_carried_by_a_post(self, client: httpx.AsyncClient) -> None:
        body = form(
            statementId=STATEMENT_ID,
            Authorization="Basic VGVzdFVzZXI6cGFzc3dvcmQ=",
            X_Experience_API_Version="1.0.3",
            Content_Type="application/json",
            Content_Length="3",  # wrong on purpose: the real byte length wins
            content=CONTENT,
        )
        response = await client.post("/xapi/statements?method=PUT", content=body, headers={"Content-Type": FORM})
        request = seen(response)
        assert (request["method"], request["path"]) == ("PUT", "/xapi/statements")
        assert request["query"] == [("statementId", STATEMENT_ID)]
        assert request["body"] == CONTENT
        headers = request["headers"]
        assert headers["authorization"] == ["Basic VGVzdFVzZXI6cGFzc3dvcmQ="]
        assert headers["x-experience-api-version"] == ["1.0.3"]
        assert headers["content-type"] == ["application/json"]
        assert headers["content-length"] == [str(len(CONTENT.encode()))]

    async def test_form_headers_replace_sent_ones_and_other_headers_stay(self, client: httpx.AsyncClient) -> None:
        sent = {"Content-Type": f"{FORM}; charset=UTF-8", "Authorization": "Basic old", "Accept": "application/json"}
        body = form(authorization="Basic new", If_None_Match="*", content="{}")
        response = await client.post("/xapi/activities/state?method=PUT", content=body, headers=sent)
        headers = seen(response)["headers"]
        assert headers["authorization"] == ["Basic new"]
        assert headers["if-none-match"] == ["*"]
        assert headers["accept"] == ["application/json"]
        assert "content-type" not in headers  # the form's own type is gone and the form named none

    async def test_a_get_carried_by_a_post(self, client: httpx.AsyncClient) -> None:
        agent = json.dumps({"mbox": "mailto:a@example.com"})
        body = form(agent=agent, related_activities="true", limit="1", X_Experience_API_Version="1.0.0")
        response = await client.post("/xapi/statements?method=GET", content=body, headers={"Content-Type": FORM})
        request = seen(response)
        assert request["method"] == "GET"
        assert request["query"] == [("agent", agent), ("related_activities", "true"), ("limit", "1")]
        assert request["body"] == ""
        assert "content-length" not in request["headers"]
        assert response.headers["x-seen-method"] == "GET"

    async def test_without_a_content_type_as_xdomainrequest_sends(self, client: httpx.AsyncClient) -> None:
        body = form(stateId="s", activityId="http://x", agent="{}")
        request = seen(await client.post("/xapi/activities/state?method=DELETE", content=body))
        assert (request["method"], len(request["query"])) == ("DELETE", 3)
        request = seen(await client.post("/xapi/statements?method=POST", content=""))
        assert (request["method"], request["body"], request["headers"]["content-length"]) == ("POST", "", ["0"])

    async def test_a_head_carried_by_a_post_answers_without_a_body(self, client: httpx.AsyncClient) -> None:
        body = form(statementId=STATEMENT_ID)
        response = await client.post("/xapi/statements?method=HEAD", content=body, headers={"Content-Type": FORM})
        assert response.status_code == 200
        assert response.headers["x-seen-method"] == "HEAD"
        assert response.content == b""
        assert "content-length" not in response.headers

    async def test_a_streamed_body_is_read_whole(self, client: httpx.AsyncClient) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for chunk in (b"statementId=1&con", b"tent=%7B%7D"):
                yield chunk

        response = await client.post("/xapi/statements?method=PUT", content=chunks(), headers={"Content-Type": FORM})
        request = seen(response)
        assert (request["query"], request["body"]) == ([("statementId", "1")], "{}")


class TestRefusals:
    async def test_the_syntax_must_be_a_post(self, client: httpx.AsyncClient) -> None:
        response = await client.request("GET", "/xapi/statements?method=POST", headers={"Content-Type": FORM})
        assert "must be sent as POST" in bad_request(response, "method")
        assert response.headers["x-experience-api-version"] == "1.0.3"

    async def test_method_must_be_the_only_query_parameter(self, client: httpx.AsyncClient) -> None:
        url = f"/xapi/statements?method=PUT&statementId={STATEMENT_ID}"
        response = await client.post(url, content=form(statementId=STATEMENT_ID, content="{}"))
        assert "must be a form field" in bad_request(response, "statementId")
        response = await client.post("/xapi/statements?method=PUT&method=GET", content="")
        assert "more than once" in bad_request(response, "method")

    @pytest.mark.parametrize("method", ["PATCH", "put", "", "OPTIONS"])
    async def test_method_names_an_xapi_method(self, client: httpx.AsyncClient, method: str) -> None:
        response = await client.post(f"/xapi/statements?method={method}", content="")
        assert "method must be one of DELETE, GET, HEAD, POST, PUT" in bad_request(response, "method")

    @pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=x", "text/plain"])
    async def test_the_body_must_be_a_form(self, client: httpx.AsyncClient, content_type: str) -> None:
        response = await client.post(
            "/xapi/statements?method=PUT", content="{}", headers={"Content-Type": content_type}
        )
        assert FORM in bad_request(response, "Content-Type")

    @pytest.mark.parametrize(
        ("body", "field", "detail"),
        [
            (json.dumps({"statementId": "1", "content": "{}"}), "body", "not a URL-encoded UTF-8 form"),
            ("statementId=1&content", "body", "not a URL-encoded UTF-8 form"),
            ("content=%FF", "body", "not a URL-encoded UTF-8 form"),
            ("%7B%22a%22=1", "body", "is not a parameter name"),
            ("statementId=1&statementId=2", "statementId", "more than once"),
            ("Authorization=a&authorization=b", "authorization", "more than once"),
            ("method=PUT", "method", "belongs in the query string"),
            ("If-Match=%22a%22%0D%0AX-Evil:%201", "If-Match", "holds a line break"),
        ],
    )
    async def test_the_form_must_be_well_formed(
        self, client: httpx.AsyncClient, body: str, field: str, detail: str
    ) -> None:
        response = await client.post("/xapi/statements?method=PUT", content=body, headers={"Content-Type": FORM})
        assert detail in bad_request(response, field)

    async def test_raw_non_utf8_bytes_are_refused(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/xapi/statements?method=PUT", content=b"content=\xff", headers={"Content-Type": FORM}
        )
        assert "not a URL-encoded UTF-8 form" in bad_request(response, "body")

    @pytest.mark.parametrize("version", ["2.0.0", "2.0", " 2.0.0 ", "3.1"])
    async def test_xapi_2_requests_may_not_use_the_syntax(self, client: httpx.AsyncClient, version: str) -> None:
        body = form(X_Experience_API_Version=version, content="{}", statementId="1")
        response = await client.post("/xapi/statements?method=PUT", content=body, headers={"Content-Type": FORM})
        assert "removed in xAPI 2.0" in bad_request(response, "X-Experience-API-Version")
        assert response.headers["x-experience-api-version"] == "2.0.0"
        response = await client.post("/xapi/statements?method=GET", headers={"X-Experience-API-Version": version})
        assert "removed in xAPI 2.0" in bad_request(response, "X-Experience-API-Version")

    async def test_a_form_over_the_limit_is_too_large(self, client: httpx.AsyncClient) -> None:
        big = "content=" + "a" * 1_000_000
        response = await client.post("/xapi/statements?method=PUT", content=big, headers={"Content-Type": FORM})
        body = problem(response, 413)
        assert (body["code"], body["field"]) == ("payload_too_large", "body")

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"a" * 400_000

        response = await client.post("/xapi/statements?method=PUT", content=chunks(), headers={"Content-Type": FORM})
        assert problem(response, 413)["detail"] == "The form body is over 1000000 bytes."

    async def test_a_client_gone_mid_body_gets_no_answer(self) -> None:
        sent: list[Message] = []
        messages: list[Message] = [
            {"type": "http.request", "body": b"content=", "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> Message:
            return messages.pop(0)

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/xapi/statements",
            "query_string": b"method=PUT",
            "headers": [(b"content-type", FORM.encode())],
        }
        await APP(scope, receive, send)
        assert sent == []
