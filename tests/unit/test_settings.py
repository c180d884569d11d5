"""Settings: the operator's DATABASE_URL form, and refusing to run without a secret."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from service.errors import ConfigError
from service.settings import Settings, async_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql+asyncpg://postgres:@/postgres?host=/tmp/pg",
        ),
    ],
)
def test_database_url_forms(given: str, used: str) -> None:
    assert async_database_url(given) == used
    assert Settings(_env_file=None, database_url=given).database == used


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValidationError, match="postgresql://"):
        Settings(_env_file=None, database_url="mysql://u@h/db")


@pytest.mark.parametrize("value", [None, ""])
def test_missing_or_empty_secret_is_named(value: str | None) -> None:
    settings = Settings(_env_file=None, fitbit_client_secret=value)
    with pytest.raises(ConfigError, match=r"^FITBIT_CLIENT_SECRET is not set"):
        settings.require("fitbit_client_secret")


def test_secrets_are_not_in_the_repr() -> None:
    settings = Settings(_env_file=None, fitbit_client_secret="s3cr3t-value")
    assert "s3cr3t-value" not in repr(settings)
    assert settings.secret("fitbit_client_secret") == "s3cr3t-value"


def test_api_url_without_trailing_slash() -> None:
    assert Settings(_env_file=None, fitbit_api_url="http://127.0.0.1:9/").fitbit_api_url == (
        "http://127.0.0.1:9"
    )
