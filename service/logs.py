"""Structured logs: one JSON object per line, with the ids of what is being handled.

Every event carries `timestamp`, `level`, `logger`, `message`, plus `request_id`, `job_id` and
`fitbit_user_id` when the code handling it has bound them (`bound`, `bind`), and whatever was
passed as `extra=`. A filter on the handler, not on loggers (logger filters miss records that
propagate from child loggers), rewrites every record before any formatter sees it so that no
token, secret or signature reaches the output: not in messages, arguments, extras or tracebacks.

`logging_config(settings)` is a `dictConfig` mapping; the CLI applies it with
`configure_logging`, and `serve` hands the same mapping to uvicorn so its access log is JSON too.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import logging.config
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from pydantic import SecretStr

from service.settings import Settings

CONTEXT_FIELDS = ("request_id", "job_id", "fitbit_user_id")
REDACTED = "[REDACTED]"
# Secrets shorter than this are not searched for: a 1-character "secret" would blank the log.
MIN_SECRET_LENGTH = 6
# Successful probes and scrapes arrive every few seconds and say nothing.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

_context: ContextVar[Mapping[str, str]] = ContextVar("log_context", default=MappingProxyType({}))

# Fields every LogRecord has; anything else on a record came from `extra=` or a filter.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_SKIPPED_EXTRAS = frozenset({"color_message", "taskName"})

# Names whose value is a secret: in query strings and form bodies (`code` is an OAuth
# authorization code there, `verify` Fitbit's verification code), and as JSON or repr keys.
_QUERY_NAMES = (
    r"access_token|refresh_token|id_token|client_secret|code_verifier|code|verify|password"
    r"|secret|signature|token"
)
_KEY_NAMES = (
    r"access_token|refresh_token|id_token|client_secret|code_verifier|password|secret|token"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer x / Basic x, as a header line, a dict repr or JSON.
    (
        re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(?:bearer|basic)?\s*[^\s'\",;}]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"\b(Basic)\s+[A-Za-z0-9+/]{12,}={0,2}"), rf"\1 {REDACTED}"),
    # Signature headers: X-Fitbit-Signature, X-HEALTHAPI-SIGNATURE.
    (
        re.compile(r"(?i)(x-[a-z-]*signature['\"]?\s*[:=]\s*['\"]?)[^\s'\",;}]+"),
        rf"\1{REDACTED}",
    ),
    (re.compile(rf"(?i)\b((?:{_QUERY_NAMES})=)[^&\s'\",;]+"), rf"\1{REDACTED}"),
    (re.compile(rf"(?i)(['\"](?:{_KEY_NAMES})['\"]\s*:\s*['\"])[^'\"]+"), rf"\1{REDACTED}"),
    # Fernet tokens (our encrypted tokens at rest) and JWTs (Fitbit's access tokens).
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), REDACTED),
    # The password of a URL: postgresql://user:password@host.
    (re.compile(r"(://[^:/?#\s@]+:)[^@/\s]+@"), rf"\1{REDACTED}@"),
)


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Add context fields to every event logged inside the block (this task only)."""
    token = _context.set(_merged(fields))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str | None) -> None:
    """Add context fields for the rest of the current task, e.g. at the start of a job."""
    _context.set(_merged(fields))


def current() -> Mapping[str, str]:
    return _context.get()


def _merged(fields: Mapping[str, str | None]) -> dict[str, str]:
    return {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}


class Redactor:
    """Replaces anything that looks like a token, secret or signature, and the given values."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def __call__(self, text: str) -> str:
        if self._values is not None:
            text = self._values.sub(REDACTED, text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactSecrets(logging.Filter):
    """Handler filter: the record's message, extras and traceback, redacted, args folded in."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(path := getattr(record, "access_path", None), str):
            return self._access(record, path)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not break the caller
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = self._redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        for name, value in _extras(record).items():
            setattr(record, name, _redact_value(self._redact, value))
        return True

    def _access(self, record: logging.LogRecord, path: str) -> bool:
        """An access line (structured by `AccessFields`): only its path, which may carry a
        query string, can hold a secret, so only the path is searched. This runs for every
        request, the webhook's included, and searching the whole record cost ~5 times more."""
        fields = record.__dict__
        fields["path"] = self._redact(path)
        del fields["access_path"]
        record.msg = '{client} - "{method} {path} HTTP/{http_version}" {status}'.format_map(fields)
        record.args = None
        return True


class ContextFields(logging.Filter):
    """Handler filter: copy the bound context fields onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class AccessFields(logging.Filter):
    """Handler filter: uvicorn's access line as fields; drops successful probes and scrapes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "uvicorn.access" or not isinstance(record.args, tuple):
            return True
        if len(record.args) != 5:
            return True
        client, method, path, http_version, status = record.args
        quiet = str(path).split("?", 1)[0] in QUIET_PATHS
        if quiet and isinstance(status, int) and status < 400:
            return False
        record.__dict__.update(
            client=client, method=method, path=path, http_version=http_version, status=status
        )
        record.access_path = str(path)  # tells RedactSecrets that only the path needs a look
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = record.stack_info
        return json.dumps(event, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """For a person at a terminal: the JSON event's fields, on one readable line."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{record.levelname} {record.name}: {record.getMessage()}"
        fields = " ".join(f"{k}={v}" for k, v in _extras(record).items())
        line = f"{line} [{fields}]" if fields else line
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return f"{line}\n{record.exc_text}" if record.exc_text else line


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, and each of a comma-separated key list's keys."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
            found += [text, *(part.strip() for part in text.split(","))]
    return [value for value in found if value]


def logging_config(settings: Settings) -> dict[str, Any]:
    """The `logging.config.dictConfig` mapping for this process (and uvicorn's workers)."""
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "access": {"()": AccessFields},
            "context": {"()": ContextFields},
            "redact": {"()": RedactSecrets, "secrets": secret_values(settings)},
        },
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                # Order matters: structure the access line, add context, then redact it all.
                "filters": ["access", "context", "redact"],
            }
        },
        "root": {"level": settings.log_level, "handlers": ["default"]},
        "loggers": {
            name: {"level": settings.log_level, "handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq")
        },
    }


def configure_logging(settings: Settings) -> None:
    logging.config.dictConfig(logging_config(settings))


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        name: value
        for name, value in vars(record).items()
        if name not in _RECORD_FIELDS and name not in _SKIPPED_EXTRAS
    }


def _redact_value(redact: Redactor, value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(redact, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(redact, v) for v in value]
    return value
