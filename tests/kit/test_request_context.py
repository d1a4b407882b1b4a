"""`kit.request_context`: the outermost frame of every request: its id, its access line, a last-resort 500."""

import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from gateway.settings import GatewaySettings
from kit.application import create_base_app
from kit.logging import JsonFormatter, current_request_id
from tests.kit.asgi import serve


class Recorder(logging.Handler):
    """Keeps the records a logger emits."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep `record`, and its JSON line as the process's formatter writes it then."""
        self.records.append(record)
        self.lines.append(json.loads(JsonFormatter("the-process").format(record)))


@pytest.fixture
def access_log() -> Iterator[Recorder]:
    """The records of `plp.access`."""
    recorder, logger = Recorder(), logging.getLogger("plp.access")
    logger.addHandler(recorder)
    yield recorder
    logger.removeHandler(recorder)


@pytest.fixture
def error_log() -> Iterator[Recorder]:
    """The records of `plp.errors`."""
    recorder, logger = Recorder(), logging.getLogger("plp.errors")
    logger.addHandler(recorder)
    yield recorder
    logger.removeHandler(recorder)


def framed_app(tmp_path: Path) -> FastAPI:
    """A tiny app with a normal route, a failing one, and a stream that fails halfway."""
    app = create_base_app(GatewaySettings(var_dir=tmp_path), title="frame-test", description="Frames requests.")

    @app.get("/ok")
    async def ok() -> dict[str, str | None]:
        return {"request_id": current_request_id()}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first chunk"
            raise RuntimeError("broke mid-stream")

        return StreamingResponse(chunks())

    return app


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the framed app that lets app exceptions surface."""
    async with serve(framed_app(tmp_path)) as client:
        yield client


class TestRequestContextMiddleware:
    async def test_the_request_id_is_current_while_handling(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/ok", headers={"X-Request-ID": "req-ctx"})
        assert response.json() == {"request_id": "req-ctx"}

    async def test_the_request_id_is_unbound_afterwards(self, client: httpx.AsyncClient) -> None:
        await client.get("/ok", headers={"X-Request-ID": "req-gone"})
        assert current_request_id() is None

    async def test_a_generated_id_is_the_one_in_the_header(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/ok")
        assert response.json()["request_id"] == response.headers["x-request-id"]

    async def test_each_request_logs_one_access_line(self, client: httpx.AsyncClient, access_log: Recorder) -> None:
        await client.get("/ok?x=1", headers={"X-Request-ID": "req-log"})
        (line,) = access_log.records
        fields = line.fields  # type: ignore[attr-defined]
        assert line.getMessage() == "request"
        assert (fields["method"], fields["path"], fields["status"]) == ("GET", "/ok", 200)
        assert fields["duration_ms"] >= 0

    async def test_the_line_names_the_app_that_handled_the_request(
        self, client: httpx.AsyncClient, access_log: Recorder
    ) -> None:
        # Several apps may share one process; each request's lines name its own app.
        await client.get("/ok", headers={"X-Request-ID": "req-app"})
        (line,) = access_log.lines
        assert (line["app"], line["request_id"]) == ("frame-test", "req-app")

    async def test_an_error_status_is_logged(self, client: httpx.AsyncClient, access_log: Recorder) -> None:
        await client.get("/missing")
        (line,) = access_log.records
        assert line.fields["status"] == 404  # type: ignore[attr-defined]

    async def test_an_unexpected_error_is_a_logged_500(
        self, client: httpx.AsyncClient, access_log: Recorder, error_log: Recorder
    ) -> None:
        response = await client.get("/boom", headers={"X-Request-ID": "req-boom"})
        assert response.status_code == 500
        assert response.json()["request_id"] == "req-boom"
        (error,) = error_log.records
        assert error.getMessage() == "unhandled error on GET /boom"
        assert error.exc_info is not None
        assert str(error.exc_info[1]) == "kaput"
        assert access_log.records[0].fields["status"] == 500  # type: ignore[attr-defined]

    async def test_an_error_after_the_response_started_is_not_answered_twice(
        self, client: httpx.AsyncClient, access_log: Recorder, error_log: Recorder
    ) -> None:
        with pytest.raises(RuntimeError, match="broke mid-stream"):
            await client.get("/stream")
        assert len(error_log.records) == 1
        assert access_log.records[0].fields["status"] == 200  # type: ignore[attr-defined]

    async def test_the_lifespan_passes_through_unframed(self, tmp_path: Path, access_log: Recorder) -> None:
        app = framed_app(tmp_path)
        async with serve(app):
            pass
        assert access_log.records == []
