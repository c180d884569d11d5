"""Structured logs: redaction, context fields, the JSON event, uvicorn's access line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from service import logs
from service.settings import Settings

SECRET = "sup3r-client-secret"
FERNET = "gAAAAABnX1c2" + "k" * 60 + "=="
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMjhUUTQifQ.c2lnbmF0dXJlLWJ5dGVz"


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger wired exactly as `logging_config` wires the root handler."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    for found in (logs.AccessFields(), logs.ContextFields(), logs.RedactSecrets([SECRET])):
        handler.addFilter(found)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, buffer
    logger.removeHandler(handler)


def events(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {JWT}",
        "{'authorization': 'Basic MjNURVNUOnRlc3QtY2xpZW50LXNlY3JldA=='}",
        "headers: Authorization=Bearer abcdefghijklmnop",
        "bearer abcdefghijklmnopqrstuvwxyz",
        "x-fitbit-signature: 9Dq3vGvbW1H3sP9q3zqv5bq3yQ0=",
        '"X-HEALTHAPI-SIGNATURE": "MEUCIQDn1"',
        "GET /oauth2/token?grant_type=refresh_token&refresh_token=abc123def456",
        "POST body code=7b64c4b088b9c841d15bcf4aa6fa54ed37d02e1e&state=x",
        "GET /fitbit/webhook?verify=abcdef0123",
        '{"access_token": "abc.def.ghi", "expires_in": 28800}',
        "{'refresh_token': 'c0ffee-c0ffee'}",
        f"stored {FERNET} for the account",
        f"token was {JWT}",
        "postgresql://fitbit:hunter2hunter2@db:5432/fitbit",
        f"the secret is {SECRET}",
    ],
)
def test_secrets_are_redacted(text: str) -> None:
    redacted = logs.Redactor([SECRET])(text)
    assert logs.REDACTED in redacted
    for secret in (
        JWT,
        FERNET,
        SECRET,
        "MjNURVNUOnRlc3QtY2xpZW50LXNlY3JldA",
        "abcdefghijklmnop",
        "9Dq3vGvbW1H3sP9q3zqv5bq3yQ0",
        "MEUCIQDn1",
        "abc123def456",
        "7b64c4b088b9c841d15bcf4aa6fa54ed37d02e1e",
        "abcdef0123",
        "abc.def.ghi",
        "c0ffee-c0ffee",
        "hunter2hunter2",
    ):
        assert secret not in redacted


@pytest.mark.parametrize(
    "text",
    [
        "fitbit notification refused: signature mismatch",
        "sweeper re-enqueued 3 of 3 stale pending sync requests",
        "job sync:fitbit:228TQ4:activities:2026-11-20 finished",
        '127.0.0.1:5000 - "POST /fitbit/webhook HTTP/1.1" 204',
        "authorization header missing",
    ],
)
def test_ordinary_lines_are_left_alone(text: str) -> None:
    assert logs.Redactor([SECRET])(text) == text


def test_short_secrets_are_not_searched_for() -> None:
    assert logs.Redactor(["s"])("a session started") == "a session started"


def test_event_has_the_fields_and_the_bound_context(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = capture
    with logs.bound(request_id="r-1", fitbit_user_id="228TQ4"):
        logger.info("synced %d rows", 3, extra={"collection": "sleep"})
    logger.warning("outside")
    inside, outside = events(buffer)
    assert inside["message"] == "synced 3 rows"
    assert inside["level"] == "INFO"
    assert inside["logger"] == "tests.logs"
    assert inside["timestamp"].endswith("+00:00")
    assert inside["request_id"] == "r-1"
    assert inside["fitbit_user_id"] == "228TQ4"
    assert inside["collection"] == "sleep"
    assert "request_id" not in outside


def test_arguments_extras_and_tracebacks_are_redacted(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = capture
    try:
        raise RuntimeError(f"refresh failed with {SECRET}")
    except RuntimeError:
        logger.exception("call %s", f"access_token={JWT}", extra={"body": {"token": FERNET}})
    output = buffer.getvalue()
    assert SECRET not in output
    assert JWT not in output
    assert FERNET not in output
    (event,) = events(buffer)
    assert "RuntimeError" in event["exception"]


def test_a_broken_format_string_does_not_raise(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, buffer = capture
    logger.info("%d items", "not a number")
    (event,) = events(buffer)
    assert "items" in event["message"]


def _access(path: str, status: int) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", path, "1.1", status),
        None,
    )


def test_access_line_becomes_fields_and_probes_are_quiet() -> None:
    access = logs.AccessFields()
    assert not access.filter(_access("/healthz", 200))
    assert not access.filter(_access("/metrics", 200))
    assert access.filter(_access("/readyz", 503))
    record = _access("/fitbit/webhook", 404)
    assert access.filter(record)
    assert record.__dict__["method"] == "GET"
    assert record.__dict__["status"] == 404


def test_an_access_line_path_is_redacted_in_the_message_and_its_field() -> None:
    record = _access("/fitbit/callback?code=7b64c4b088b9c841&state=s1", 302)
    assert logs.AccessFields().filter(record)
    assert logs.RedactSecrets(["s3cr3t-value"]).filter(record)
    event = json.loads(logs.JsonFormatter().format(record))
    assert "7b64c4b088b9c841" not in json.dumps(event)
    assert event["path"] == f"/fitbit/callback?code={logs.REDACTED}&state=s1"
    assert event["message"] == (
        f'127.0.0.1:5000 - "GET /fitbit/callback?code={logs.REDACTED}&state=s1 HTTP/1.1" 302'
    )
    assert "access_path" not in event


def test_secret_values_include_each_rotation_key() -> None:
    settings = Settings(
        _env_file=None,
        fitbit_client_secret="client-secret-1",
        token_encryption_keys="key-number-one, key-number-two",
    )
    values = logs.secret_values(settings)
    assert {"client-secret-1", "key-number-one", "key-number-two"} <= set(values)


def test_config_wires_filters_in_order_and_levels() -> None:
    settings = Settings(_env_file=None, log_level="debug", log_format="text")
    config = logs.logging_config(settings)
    assert config["handlers"]["default"]["filters"] == ["access", "context", "redact"]
    assert config["root"]["level"] == "DEBUG"
    assert config["formatters"]["default"]["()"] is logs.TextFormatter


def test_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="must be DEBUG, INFO"):
        Settings(_env_file=None, log_level="LOUD")
