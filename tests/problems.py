"""Reading problem+json answers in tests."""

from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of `response`, after checking its status and media type."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def invalid_fields(response: httpx.Response) -> list[str]:
    """The fields a 422 problem names."""
    return [error["field"] for error in problem(response, 422)["errors"]]
