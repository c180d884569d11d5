"""Faults on demand: added latency, 5xx answers and hangs, for Fitbit-facing calls only."""

from __future__ import annotations

import time

import httpx
import pytest

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import YESTERDAY, BearerFactory

DATA = f"/1/user/-/foods/log/water/date/{YESTERDAY}.json"


async def test_added_latency_delays_each_answer(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.set_faults(latency_ms=200)
    started = time.monotonic()
    response = await fitbit.get(DATA, headers=headers)
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


async def test_fail_next_answers_5xx_exactly_that_many_times(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.set_faults(fail_next=2, error_status=500)
    statuses = [(await fitbit.get(DATA, headers=headers)).status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert (await control.counters()).faults == {"error": 2}


async def test_an_error_rate_is_drawn_from_a_seeded_stream(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()

    async def run() -> list[int]:
        await control.set_faults(error_rate=0.5, seed=3)
        return [(await fitbit.get(DATA, headers=headers)).status_code for _ in range(20)]

    first = await run()
    assert set(first) == {200, 503}
    assert await run() == first


async def test_a_timeout_hangs_past_the_clients_patience(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.set_faults(timeout_next=1, hang_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        await fitbit.get(DATA, headers=headers, timeout=0.3)
    assert (await fitbit.get(DATA, headers=headers)).status_code == 200
    assert (await control.counters()).faults == {"hang": 1}


async def test_a_path_prefix_aims_faults_at_some_endpoints(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.set_faults(error_rate=1, path_prefix="/1.2/user")
    assert (await fitbit.get(DATA, headers=headers)).status_code == 200
    failed = await fitbit.get(f"/1.2/user/-/sleep/date/{YESTERDAY}.json", headers=headers)
    assert failed.status_code == 503
    assert failed.json()["errors"][0]["errorType"] == "system"


async def test_faults_spare_the_control_api_and_can_be_cleared(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    headers = await bearer()
    await control.set_faults(error_rate=1)
    assert (await control.counters()).calls_total == 0  # the control API still answers
    assert (await fitbit.get(DATA, headers=headers)).status_code == 503
    await control.clear_faults()
    assert (await fitbit.get(DATA, headers=headers)).status_code == 200
