"""xAPI statements for tests, and recording and reading them through the progress service's LRS."""

import base64
import hashlib
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI

from services.profile_service import api_clients
from tests.tokens import TokenFactory

WRITE = ("statements/write",)
READ = ("statements/read",)
WRITE_READ = (*WRITE, *READ)
VERSION = {"X-Experience-API-Version": "2.0.0"}
VERSIONS = ("1.0.3", "2.0.0")
COMPETENCY = "https://plp.dev/xapi/extensions/competency"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
REVIEWED = "https://plp.dev/xapi/verbs/reviewed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
HOME_PAGE = "https://lms.example"
AUTHORITY_HOME_PAGE = "https://plp.dev/api-clients"
BOUNDARY = "plp-test-boundary"


def statement(
    learner: str = "l-a1", competency: str | list[str] | None = "3.NF.A.1", success: bool | None = True, **fields: Any
) -> dict[str, Any]:
    """A practice answer by `learner` evidencing `competency`, with `fields` added or replaced."""
    activity: dict[str, Any] = {"id": f"https://lms.example/items/{competency or 'none'}"}
    if competency is not None:
        activity["definition"] = {"extensions": {COMPETENCY: competency}}
    body: dict[str, Any] = {
        "actor": {"account": {"homePage": HOME_PAGE, "name": learner}},
        "verb": {"id": ANSWERED},
        "object": activity,
    }
    if success is not None:
        body["result"] = {"success": success}
    return body | fields


def account(name: str) -> dict[str, Any]:
    """The Agent of roster user `name`, as the LMS names them."""
    return {"account": {"homePage": HOME_PAGE, "name": name}}


def reference(target: str, actor: str = "t-a", verb: str = REVIEWED, **fields: Any) -> dict[str, Any]:
    """A statement by `actor` whose object is a StatementRef to `target`."""
    body = {"actor": account(actor), "verb": {"id": verb}, "object": {"objectType": "StatementRef", "id": target}}
    return body | fields


def voiding(target: str, actor: str = "l-a1") -> dict[str, Any]:
    """The statement voiding `target`."""
    return reference(target, actor, VOIDED)


def new_id() -> str:
    """A fresh statement id."""
    return str(uuid.uuid4())


def xapi(version: str = "2.0.0") -> dict[str, str]:
    """The X-Experience-API-Version header of a request spoken in `version`."""
    return {"X-Experience-API-Version": version}


def lms(
    tokens: TokenFactory, version: str = "2.0.0", tenant: str = "t1", scopes: tuple[str, ...] = WRITE_READ
) -> dict[str, str]:
    """Headers of the `lms` API client (bearer token) speaking `version`."""
    return tokens.headers("lms", "partner", tenant=tenant, scopes=scopes) | xapi(version)


async def record(progress: httpx.AsyncClient, headers: dict[str, str], body: Any) -> list[str]:
    """POST `body` to /xapi/statements and return the ids of the 200 answer."""
    response = await progress.post("/xapi/statements", json=body, headers=headers)
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def fetch(progress: httpx.AsyncClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    """GET /xapi/statements with `params` and return the JSON of the 200 answer."""
    response = await progress.get("/xapi/statements", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids_of(result: dict[str, Any]) -> list[str]:
    """The statement ids of a StatementResult, in order."""
    return [s["id"] for s in result["statements"]]


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An HTTP Basic `Authorization` header for an API client (id and secret form-encoded first)."""
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
    return {"Authorization": f"Basic {base64.b64encode(pair.encode()).decode()}"}


async def client_credentials(profile_app: FastAPI, tenant: str, scopes: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """A new API client of `tenant` holding `scopes`: its id and its HTTP Basic `Authorization` header."""
    async with profile_app.state.sessionmaker() as session:
        client, secret = await api_clients.create_client(session, tenant, scopes)
        await session.commit()
    return client.client_id, basic(client.client_id, secret)


async def master(progress: httpx.AsyncClient, tokens: TokenFactory, learner: str, *competencies: str) -> None:
    """Record three correct answers per competency through the progress service (enough for mastery)."""
    batch = [statement(learner, c) for c in competencies for _ in range(3)]
    await record(progress, tokens.headers("lms", "partner", scopes=WRITE) | VERSION, batch)


def multipart(statements: Any, *attachments: tuple[str, bytes]) -> bytes:
    """A `multipart/mixed` statements request body, written by hand: the JSON, then each (type, content)."""
    parts = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode() + json.dumps(statements).encode()]
    for content_type, content in attachments:
        head = (
            f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {hashlib.sha256(content).hexdigest()}\r\n\r\n"
        )
        parts.append(head.encode() + content)
    return b"\r\n".join(parts) + f"\r\n--{BOUNDARY}--\r\n".encode()


def parts_of(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a `multipart/mixed` response: (headers with lowercase names, content)."""
    media_type, _, parameter = response.headers["content-type"].partition(";")
    assert media_type.strip() == "multipart/mixed"
    boundary = parameter.strip().removeprefix("boundary=").strip('"').encode()
    body = response.content
    assert body.endswith(b"--" + boundary + b"--\r\n")
    parts: list[tuple[dict[str, str], bytes]] = []
    for raw in body.split(b"\r\n--" + boundary)[:-1]:
        raw = raw.removeprefix(b"--" + boundary).removeprefix(b"\r\n")
        head, _, content = raw.partition(b"\r\n\r\n")
        headers = dict(line.decode().split(": ", 1) for line in head.split(b"\r\n"))
        parts.append(({name.lower(): value for name, value in headers.items()}, content))
    return parts


def attachment_object(content: bytes, content_type: str = "application/octet-stream") -> dict[str, Any]:
    """The attachment object a statement carries for `content`."""
    return {
        "usageType": "https://plp.dev/xapi/attachments/worked-solution",
        "display": {"en-US": "Worked solution"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }
