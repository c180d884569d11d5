"""The console script, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BASE_ENV = {"PATH": os.environ["PATH"], "HOME": str(Path.home())}


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        [sys.executable, "-m", "service.cli", *args],
        env={**BASE_ENV, **env},
        cwd=ROOT / "tests",  # no .env from the project root
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://u@127.0.0.1/db"}, "FITBIT_CLIENT_SECRET"),
        (
            {"DATABASE_URL": "postgresql://u@127.0.0.1/db", "FITBIT_CLIENT_SECRET": ""},
            "FITBIT_CLIENT_SECRET",
        ),
        (
            {"DATABASE_URL": "postgresql://u@127.0.0.1/db", "FITBIT_CLIENT_SECRET": "s"},
            "FITBIT_VERIFICATION_CODE",
        ),
    ],
)
def test_serve_refuses_to_start_naming_the_variable(env: dict[str, str], missing: str) -> None:
    result = run("serve", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_setting_is_one_line() -> None:
    result = run("migrate", DATABASE_URL="mysql://x@y/z")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "DATABASE_URL" in result.stderr


def test_migrate_brings_the_database_to_head(database_url: str) -> None:
    result = run("migrate", DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_worker_needs_a_database() -> None:
    result = run("worker")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
