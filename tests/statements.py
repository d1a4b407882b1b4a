"""xAPI statements for tests, and recording them through the progress service."""

from typing import Any

import httpx

from tests.tokens import TokenFactory

WRITE = ("statements/write",)
COMPETENCY = "https://plp.dev/xapi/extensions/competency"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"


def statement(
    learner: str = "l-a1", competency: str | list[str] | None = "3.NF.A.1", success: bool | None = True, **fields: Any
) -> dict[str, Any]:
    """A practice answer by `learner` evidencing `competency`, with `fields` added or replaced."""
    activity: dict[str, Any] = {"id": f"https://lms.example/items/{competency or 'none'}"}
    if competency is not None:
        activity["definition"] = {"extensions": {COMPETENCY: competency}}
    body: dict[str, Any] = {
        "actor": {"account": {"homePage": "https://lms.example", "name": learner}},
        "verb": {"id": ANSWERED},
        "object": activity,
    }
    if success is not None:
        body["result"] = {"success": success}
    return body | fields


async def master(progress: httpx.AsyncClient, tokens: TokenFactory, learner: str, *competencies: str) -> None:
    """Record three correct answers per competency through the progress service (enough for mastery)."""
    batch = [statement(learner, c) for c in competencies for _ in range(3)]
    response = await progress.post("/statements", json=batch, headers=tokens.headers("lms", "partner", scopes=WRITE))
    assert response.status_code == 200, response.text
