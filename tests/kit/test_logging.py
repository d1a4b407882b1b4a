"""`kit.logging`: JSON log lines and the request id bound to the current context."""

import json
import logging
import sys
from collections.abc import Iterator

import pytest

from kit.logging import JsonFormatter, bind_request, configure_logging, current_request_id, unbind_request


@pytest.fixture
def plp_logger() -> Iterator[logging.Logger]:
    """The `plp` logger; it and the server's loggers are restored to their state after the test."""
    loggers = [logging.getLogger(name) for name in ("plp", "uvicorn", "uvicorn.access")]
    saved = [(logger.level, logger.propagate, list(logger.handlers)) for logger in loggers]
    yield loggers[0]
    for logger, (level, propagate, handlers) in zip(loggers, saved, strict=True):
        logger.level, logger.propagate, logger.handlers = level, propagate, handlers


def record(message: str = "hello %s", *args: object, **fields: object) -> logging.LogRecord:
    """A log record of `plp.test`, with extra `fields` when given."""
    rec = logging.LogRecord("plp.test", logging.WARNING, __file__, 1, message, args or ("world",), None)
    if fields:
        rec.fields = fields
    return rec


class TestRequestId:
    def test_there_is_none_outside_a_request(self) -> None:
        assert current_request_id() is None

    def test_bind_and_unbind_restore_the_previous_id(self) -> None:
        outer = bind_request("outer")
        try:
            inner = bind_request("inner")
            assert current_request_id() == "inner"
            unbind_request(inner)
            assert current_request_id() == "outer"
        finally:
            unbind_request(outer)
        assert current_request_id() is None


class TestJsonFormatter:
    def test_a_record_is_one_json_line_with_the_standard_keys(self) -> None:
        line = JsonFormatter("plp-test").format(record())
        assert "\n" not in line
        entry = json.loads(line)
        assert entry["level"] == "warning"
        assert entry["logger"] == "plp.test"
        assert entry["app"] == "plp-test"
        assert entry["message"] == "hello world"
        assert entry["time"].endswith("Z")
        assert "request_id" not in entry

    def test_the_time_is_utc_with_milliseconds(self) -> None:
        rec = record()
        rec.created, rec.msecs = 1717243205.042, 42.0
        assert json.loads(JsonFormatter("a").format(rec))["time"] == "2024-06-01T12:00:05.042Z"

    def test_the_current_request_id_is_included(self) -> None:
        token = bind_request("req-log")
        try:
            entry = json.loads(JsonFormatter("a").format(record()))
        finally:
            unbind_request(token)
        assert entry["request_id"] == "req-log"

    def test_extra_fields_are_merged(self) -> None:
        entry = json.loads(JsonFormatter("a").format(record(method="GET", status=200, path="/x")))
        assert (entry["method"], entry["status"], entry["path"]) == ("GET", 200, "/x")

    def test_values_json_cannot_encode_are_rendered_as_text(self) -> None:
        entry = json.loads(JsonFormatter("a").format(record(thing=object)))
        assert entry["thing"] == "<class 'object'>"

    def test_an_exception_is_rendered_with_its_traceback(self) -> None:
        try:
            raise ValueError("kaput")
        except ValueError:
            rec = logging.LogRecord("plp.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
        entry = json.loads(JsonFormatter("a").format(rec))
        assert "Traceback" in entry["error"]
        assert "ValueError: kaput" in entry["error"]


class TestConfigureLogging:
    def test_the_plp_logger_gets_one_json_handler_on_stderr(self, plp_logger: logging.Logger) -> None:
        configure_logging("plp-one", "debug")
        configure_logging("plp-two", "warning")
        (handler,) = plp_logger.handlers
        assert isinstance(handler, logging.StreamHandler)
        assert handler.stream is sys.stderr
        assert isinstance(handler.formatter, JsonFormatter)
        assert handler.formatter.app_name == "plp-two"
        assert plp_logger.level == logging.WARNING
        assert plp_logger.propagate is False

    def test_lines_are_written_as_json(self, plp_logger: logging.Logger, capsys: pytest.CaptureFixture[str]) -> None:
        configure_logging("plp-cap", "INFO")
        logging.getLogger("plp.test").info("ready", extra={"fields": {"port": 8001}})
        logging.getLogger("plp.test").debug("hidden")
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1
        entry = json.loads(lines[0])
        assert (entry["app"], entry["message"], entry["port"]) == ("plp-cap", "ready", 8001)

    def test_the_servers_lines_are_json_and_its_access_lines_are_dropped(
        self, plp_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging("plp-srv", "INFO")
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
        logging.getLogger("uvicorn.access").info("GET / 200")
        (line,) = capsys.readouterr().err.splitlines()
        entry = json.loads(line)
        assert (entry["app"], entry["logger"], entry["message"]) == (
            "plp-srv",
            "uvicorn.error",
            "Started server process [42]",
        )
