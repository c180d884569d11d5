"""Fitbit's rate limit: calls per user per clock hour, every call counted (subscription calls
too), headers on every answer to a user's token, 429 once spent, reset on the hour."""

from __future__ import annotations

import httpx

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import YESTERDAY, BearerFactory

DATA = f"/1/user/-/body/log/fat/date/{YESTERDAY}.json"


async def test_the_default_is_150_per_hour_with_seconds_to_the_top_of_the_hour(
    fitbit: httpx.AsyncClient, bearer: BearerFactory
) -> None:
    response = await fitbit.get(DATA, headers=await bearer())
    assert response.headers["Fitbit-Rate-Limit-Limit"] == "150"
    assert response.headers["Fitbit-Rate-Limit-Remaining"] == "149"
    assert response.headers["Fitbit-Rate-Limit-Reset"] == str(45 * 60)  # NOW is 10:15:00


async def test_a_spent_budget_answers_429_until_the_top_of_the_hour(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.configure(rate_limit_per_hour=3)
    headers = await bearer()
    remaining = [
        (await fitbit.get(DATA, headers=headers)).headers["Fitbit-Rate-Limit-Remaining"]
        for _ in range(3)
    ]
    assert remaining == ["2", "1", "0"]
    refused = await fitbit.get(DATA, headers=headers)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["errorType"] == "request"
    assert refused.headers["Fitbit-Rate-Limit-Remaining"] == "0"
    assert refused.headers["Retry-After"] == refused.headers["Fitbit-Rate-Limit-Reset"] == "2700"

    await control.advance_clock(45 * 60 - 1)  # 10:59:59
    assert (await fitbit.get(DATA, headers=headers)).status_code == 429
    await control.advance_clock(1)  # 11:00:00
    fresh = await fitbit.get(DATA, headers=headers)
    assert fresh.status_code == 200
    assert fresh.headers["Fitbit-Rate-Limit-Remaining"] == "2"
    assert fresh.headers["Fitbit-Rate-Limit-Reset"] == "3600"
    counters = await control.counters()
    assert (counters.rate_limited_total, counters.rate_limited_by_user) == (2, {"USER01": 2})


async def test_subscription_calls_count_and_errors_carry_the_headers(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.configure(rate_limit_per_hour=2)
    headers = await bearer(scopes=["sleep"])
    created = await fitbit.post("/1/user/-/sleep/apiSubscriptions/s.json", headers=headers)
    assert created.headers["Fitbit-Rate-Limit-Remaining"] == "1"
    refused = await fitbit.get(DATA, headers=headers)  # no weight scope: 403, still counted
    assert refused.status_code == 403
    assert refused.headers["Fitbit-Rate-Limit-Remaining"] == "0"
    listing = await fitbit.get("/1/user/-/apiSubscriptions.json", headers=headers)
    assert listing.status_code == 429


async def test_each_user_has_a_budget_of_their_own(
    fitbit: httpx.AsyncClient, control: EmulatorControl, bearer: BearerFactory
) -> None:
    await control.configure(rate_limit_per_hour=1)
    mine, theirs = await bearer(), await bearer("OTHER1")
    assert (await fitbit.get(DATA, headers=mine)).status_code == 200
    assert (await fitbit.get(DATA, headers=mine)).status_code == 429
    assert (await fitbit.get(DATA, headers=theirs)).status_code == 200
    second_token = await bearer()  # a new token does not buy a new budget
    assert (await fitbit.get(DATA, headers=second_token)).status_code == 429


async def test_calls_without_a_valid_token_carry_no_rate_headers(fitbit: httpx.AsyncClient) -> None:
    response = await fitbit.get(DATA, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert "Fitbit-Rate-Limit-Limit" not in response.headers
