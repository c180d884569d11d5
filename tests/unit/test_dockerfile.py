"""The Dockerfile's essentials, checked by reading it (no Docker engine is needed).

tests/integration/test_image.py builds and runs the image where an engine answers.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

import pytest

from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [args for name, args in self.instructions if name == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"no {instruction} in the stage FROM {self.base}"
        return found[-1]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in joined.splitlines():
        if line.strip():
            name, _, args = line.strip().partition(" ")
            pairs.append((name.upper(), " ".join(args.split())))
    return pairs


def stages() -> tuple[dict[str, str], list[Stage]]:
    args: dict[str, str] = {}
    found: list[Stage] = []
    for name, value in instructions(DOCKERFILE.read_text()):
        if name == "FROM":
            words = value.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), words[0])
            found.append(Stage(base, words[2] if len(words) > 2 else None))
        elif not found and name == "ARG":
            key, _, default = value.partition("=")
            args[key] = default
        elif found:
            found[-1].instructions.append((name, value))
    return args, found


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"{args} is not in exec form"
    return [str(part) for part in value]


@pytest.fixture(scope="module")
def final() -> Stage:
    return stages()[1][-1]


def test_multi_stage_on_a_slim_python() -> None:
    _, found = stages()
    assert len(found) >= 2
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", found[-1].base), found[-1].base


def test_builder_installs_the_lockfile_without_dev_dependencies() -> None:
    _, found = stages()
    installs = [run for stage in found[:-1] for run in stage.all("RUN") if "uv sync" in run]
    assert installs
    for run in installs:
        assert "--frozen" in run
        assert "--no-dev" in run
        for forbidden in ("--all-groups", "--group", "--all-extras", "--extra", "--dev"):
            assert not re.search(rf"{forbidden}(\s|=|$)", run), run


def test_final_stage_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    user = final.last("USER")
    uid = user.split(":")[0]
    assert uid.isdigit(), user
    assert int(uid) > 0, user
    after_user = final.instructions[final.instructions.index(("USER", user)) :]
    assert not [name for name, _ in after_user if name == "RUN"], "RUN after USER runs as it"


def test_an_init_process_forwards_signals_to_the_entrypoint(final: Stage) -> None:
    entrypoint = exec_form(final.last("ENTRYPOINT"))
    assert entrypoint[0] in {"tini", "/usr/bin/tini", "dumb-init", "/usr/bin/dumb-init"}
    assert entrypoint[-1] == "fitbit-subscriber"
    assert exec_form(final.last("CMD"))[0] in {"serve", "worker", "migrate"}
    assert any(re.search(r"install .*\btini\b", run) for run in final.all("RUN"))


def test_healthcheck_uses_the_stdlib_against_healthz(final: Stage) -> None:
    healthcheck = final.last("HEALTHCHECK")
    command = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python"
    assert "urllib.request" in command[-1]
    assert not {"curl", "wget"} & set(command)
    env = dict(pair.split("=", 1) for pair in shlex.split(final.last("ENV")))
    assert env["HEALTHCHECK_URL"].endswith("/healthz")


def test_migrations_travel_with_the_image(final: Stage) -> None:
    copied = " ".join(final.all("COPY"))
    assert "alembic.ini" in copied
    assert "migrations" in copied
    assert final.last("WORKDIR") == "/app"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and line[0] != "#"]
    assert rules[0] == "**", "the context is an allow-list"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == {
        "pyproject.toml",
        "uv.lock",
        "README.md",
        "service",
        "alembic.ini",
        "migrations",
    }
