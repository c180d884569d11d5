"""The control API itself: configuration, users, counters, clock and reset; and `serve`."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.emulator.testing import ControlError, EmulatorControl
from tests.emulator.emulator_support import CLIENT_ID, NOW, USER, YESTERDAY, BearerFactory


async def test_counters_count_calls_per_endpoint_and_per_user(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    mine, theirs = await bearer(), await bearer("OTHER1")
    for headers in (mine, mine, theirs):
        await fitbit.get(f"/1.2/user/-/sleep/date/{YESTERDAY}.json", headers=headers)
    await fitbit.post("/1/user/-/apiSubscriptions/s.json", headers=mine)
    await fitbit.get(f"/1.2/user/-/sleep/date/{YESTERDAY}.json")  # no token: counted, no user
    counters = await control.counters()
    assert counters.calls_by_endpoint == {
        "GET /1.2/user/{user_id}/sleep/date/{date}.json": 4,
        "POST /1/user/{user_id}/apiSubscriptions/{subscription_id}.json": 1,
    }
    assert counters.calls_by_user == {USER: 3, "OTHER1": 1}
    assert counters.calls_total == 5
    assert counters.tokens_issued == 2
    await control.reset_counters()
    assert (await control.counters()).calls_total == 0


async def test_reset_forgets_users_tokens_subscriptions_and_data(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await fitbit.post("/1/user/-/apiSubscriptions/s.json", headers=headers)
    await control.add_log(USER, "water", YESTERDAY, {"logId": 42})
    await control.configure(rate_limit_per_hour=1)
    await control.reset()
    assert (await control.app()).config.rate_limit_per_hour == 150
    assert await control.subscriptions() == []
    with pytest.raises(ControlError):
        await control.user(USER)
    assert (await fitbit.get("/1/user/-/profile.json", headers=headers)).status_code == 401
    assert not (await control.clock()).frozen
    day = await control.day(USER, "water", YESTERDAY) if await control.put_user(USER) else None
    assert day is not None
    assert 42 not in [log["logId"] for log in day.logs]


async def test_many_weights_added_on_one_day_get_distinct_ids(control: EmulatorControl) -> None:
    # A weight's id is its time in ms: the emulator draws again rather than refuse a second.
    await control.put_user(USER)
    added = [await control.add_log(USER, "weight", YESTERDAY, notify=False) for _ in range(400)]
    ids = [int(log["logId"]) for log in added]
    assert len(set(ids)) == 400  # 400 draws among 10,800 seconds would meet without it
    stored = {int(log["logId"]) for log in (await control.day(USER, "weight", YESTERDAY)).logs}
    assert set(ids) <= stored
    with pytest.raises(ControlError, match="already used"):  # an id the caller sets is kept
        await control.add_log(USER, "weight", YESTERDAY, {"logId": ids[0]}, notify=False)


async def test_the_clock_can_jump_freeze_and_advance(control: EmulatorControl) -> None:
    assert (await control.clock()).now == NOW
    moved = await control.advance_clock(90)
    assert (moved.now, moved.frozen) == (NOW + dt.timedelta(seconds=90), True)
    running = await control.set_clock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), frozen=False)
    assert not running.frozen
    assert running.now >= dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


async def test_configuration_changes_are_validated(control: EmulatorControl) -> None:
    view = await control.configure(client_id="NEW123", rate_limit_per_hour=10)
    assert (view.config.client_id, view.config.rate_limit_per_hour) == ("NEW123", 10)
    with pytest.raises(ControlError) as refused:
        await control.configure(rate_limit_per_hour=-1)
    assert refused.value.status == 422
    with pytest.raises(ControlError):
        await control.configure(no_such_setting=True)


async def test_users_are_created_changed_and_shown(control: EmulatorControl) -> None:
    created = await control.put_user("NEWBIE", timezone="Asia/Kolkata", grant_scopes=["sleep"])
    assert (created.offset_from_utc_millis, created.grant_scopes) == (19_800_000, ["sleep"])
    changed = await control.put_user("NEWBIE", grant_scopes=None, deny_consent=True)
    assert (changed.grant_scopes, changed.deny_consent, changed.timezone) == (
        None,
        True,
        "Asia/Kolkata",
    )
    fixed = await control.put_user("NEWBIE", offset_from_utc_millis=3_600_000)
    assert (fixed.timezone, fixed.offset_from_utc_millis) == ("Asia/Kolkata", 3_600_000)
    bad_changes: list[dict[str, object]] = [
        {"timezone": "Mars/Olympus"},
        {"grant_scopes": ["telepathy"]},
        {"offset_from_utc_millis": 15 * 3_600_000},
    ]
    for bad in bad_changes:
        with pytest.raises(ControlError):
            await control.put_user("NEWBIE", **bad)
    with pytest.raises(ControlError) as unknown:
        await control.user("NOBODY")
    assert unknown.value.status == 404


async def test_unknown_fitbit_paths_answer_in_fitbits_shape(fitbit: httpx.AsyncClient) -> None:
    response = await fitbit.get("/1/user/-/activities/heart/date/today/1d.json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["errorType"] == "not_found"


def test_serve_runs_the_emulator_from_the_environment() -> None:
    """`serve(host, port)`, as `fitbit-subscriber emulator` calls it, in a process of its own."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "FITBIT_CLIENT_ID": "ENV123", "LOG_LEVEL": "warning"}
    code = f"from service.emulator.server import serve; serve('127.0.0.1', {port})"
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=env)  # noqa: S603
    try:
        config = _poll_config(f"http://127.0.0.1:{port}/_emulator/app")
        assert config["client_id"] == "ENV123"
        assert config["client_id"] != CLIENT_ID
    finally:
        process.terminate()
        # uvicorn shuts down gracefully, then lets SIGTERM end the process as it would have.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


def _poll_config(url: str) -> dict[str, object]:
    deadline = time.monotonic() + 20
    while True:
        try:
            config: dict[str, object] = httpx.get(url).json()["config"]
            return config
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # waiting for a child process to listen, not for emulated time
