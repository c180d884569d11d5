"""The Fitbit client over `httpx.MockTransport`: error classes, rate limit headers, paging."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from service.providers import errors, rows
from service.providers.fitbit.client import FitbitClient
from service.providers.fitbit.day import fetch_day
from service.providers.ratelimit import RateLimitReading
from service.sync.budget import BudgetPolicy, Priority, RateBudget
from tests import examples

API = "https://api.fitbit.test"
TOKEN = "eyJ-a-token"
LIMITS = {
    "Fitbit-Rate-Limit-Limit": "150",
    "Fitbit-Rate-Limit-Remaining": "97",
    "Fitbit-Rate-Limit-Reset": "1234",
}

Handler = Callable[[httpx.Request], httpx.Response]


class Seen:
    """Requests the transport answered, and readings the client reported."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.readings: list[RateLimitReading] = []

    async def observe(self, reading: RateLimitReading) -> None:
        self.readings.append(reading)


@pytest.fixture
def seen() -> Seen:
    return Seen()


def _client(handler: Handler, seen: Seen) -> FitbitClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.requests.append(request)
        return handler(request)

    return FitbitClient(httpx.AsyncClient(transport=httpx.MockTransport(record)), API)


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Handler:
    content = json.dumps(body).encode() if body is not None else b""
    return lambda request: httpx.Response(status, content=content, headers=headers)


async def _get(handler: Handler, seen: Seen) -> Any:
    return await _client(handler, seen).get("/1/user/X/x.json", token=TOKEN, observe=seen.observe)


async def test_success_reports_the_rate_limit(seen: Seen) -> None:
    body = await _get(_answer(200, {"weight": []}, LIMITS), seen)
    assert body == {"weight": []}
    assert seen.readings == [RateLimitReading(remaining=97, reset_seconds=1234, limit=150)]
    (request,) = seen.requests
    assert str(request.url) == f"{API}/1/user/X/x.json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    # Without Accept-Language Fitbit answers in metric units.
    assert "accept-language" not in request.headers


async def test_an_answer_without_rate_headers_reports_nothing(seen: Seen) -> None:
    await _get(_answer(200, {}), seen)
    assert seen.readings == []


def _error(kind: str) -> dict[str, Any]:
    return {"errors": [{"errorType": kind, "message": f"Access token {TOKEN} is bad"}]}


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, examples.load("fitbit-dotnet/ApiError-Request-StaleToken.json"), errors.AuthExpired),
        (401, _error("invalid_token"), errors.InvalidToken),
        (
            401,
            examples.load("fitbit-dotnet/ApiError-Request-Unauthorized.json"),
            errors.InvalidToken,
        ),
        (
            403,
            examples.load("fitbit-dotnet/ApiError-Request-Forbidden.json"),
            errors.InsufficientScope,
        ),
        (403, _error("insufficient_scope"), errors.InsufficientScope),
        (404, _error("not_found"), errors.NotFound),
        (400, _error("invalid_grant"), errors.InvalidGrant),
        (
            400,
            examples.load("fitbit-dotnet/ApiError-Request-BadRequest.json"),
            errors.UnexpectedResponse,
        ),
        (409, None, errors.UnexpectedResponse),
        (500, None, errors.ProviderUnavailable),
        (502, "<html>bad gateway</html>", errors.ProviderUnavailable),
        (503, _error("system"), errors.ProviderUnavailable),
    ],
)
async def test_error_classes(
    seen: Seen, status: int, body: Any, error: type[errors.ProviderError]
) -> None:
    with pytest.raises(error) as caught:
        await _get(_answer(status, body, LIMITS), seen)
    assert type(caught.value) is error
    assert TOKEN not in str(caught.value)  # Fitbit's messages can quote the token
    assert str(status) in str(caught.value)
    assert seen.readings == [RateLimitReading(97, 1234, 150)]  # learned even from errors


async def test_429_says_when_the_window_resets(seen: Seen) -> None:
    headers = {**LIMITS, "Fitbit-Rate-Limit-Remaining": "0", "Fitbit-Rate-Limit-Reset": "321"}
    with pytest.raises(errors.RateLimited) as caught:
        await _get(_answer(429, examples.load("fitbit-dotnet/ApiError.json"), headers), seen)
    assert caught.value.retry_after == 321
    assert seen.readings == [RateLimitReading(0, 321, 150)]


@pytest.mark.parametrize(
    ("headers", "retry_after"), [({"Retry-After": "42"}, 42), ({}, 60), ({"Retry-After": "x"}, 60)]
)
async def test_429_without_fitbits_headers(
    seen: Seen, headers: dict[str, str], retry_after: float
) -> None:
    with pytest.raises(errors.RateLimited) as caught:
        await _get(_answer(429, None, headers), seen)
    assert caught.value.retry_after == retry_after
    assert seen.readings == [RateLimitReading(0, retry_after, None)]


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("eof")],
)
async def test_transport_failures_are_transient(seen: Seen, failure: Exception) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    with pytest.raises(errors.ProviderUnavailable):
        await _get(fail, seen)


async def test_a_200_that_is_not_json_is_transient(seen: Seen) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>maintenance</html>")

    with pytest.raises(errors.ProviderUnavailable):
        await _get(html, seen)


# -- one key, end to end over the mock transport, spending from the real budget ---------------


@pytest.fixture
async def budget(redis: Redis) -> RateBudget:
    return RateBudget(redis, BudgetPolicy(limit=150))


def _activity(log_id: int, start: str) -> dict[str, Any]:
    return {"logId": log_id, "startTime": start, "activityName": "Walk"}


def _list_page(offset: int, *logs: dict[str, Any], more: bool) -> dict[str, Any]:
    link = f"https://api.fitbit.com/1/user/-/activities/list.json?offset={offset + 100}&limit=100"
    return {"activities": list(logs), "pagination": {"next": link if more else ""}}


def _fitbit(pages: dict[str, Any]) -> Handler:
    """Answers by path (and offset), with the rate limit headers of a fresh window."""

    def answer(request: httpx.Request) -> httpx.Response:
        key = request.url.path
        if "offset" in request.url.params:
            key += f"?offset={request.url.params['offset']}"
        return httpx.Response(200, json=pages[key], headers=LIMITS)

    return answer


async def test_fetch_day_follows_pages_and_spends_each_call(seen: Seen, budget: RateBudget) -> None:
    day = dt.date(2026, 3, 9)
    on_day = [_activity(i, f"2026-03-09T{i % 24:02d}:00:00.000") for i in range(100)]
    pages = {
        "/1/user/ABC/activities/date/2026-03-09.json": examples.load(
            "fitbit-dotnet/GetActivities.json"
        ),
        "/1/user/ABC/activities/list.json?offset=0": _list_page(0, *on_day, more=True),
        "/1/user/-/activities/list.json?offset=100": _list_page(
            100,
            _activity(500, "2026-03-09T23:30:00"),
            _activity(501, "2026-03-10T01:00:00"),
            more=True,
        ),
    }
    client = _client(_fitbit(pages), seen)
    meter = budget.meter("fitbit", "ABC", Priority.LIVE)

    result = await fetch_day(client, "ABC", "activities", day, token=TOKEN, meter=meter)

    assert len(seen.requests) == 3  # summary, list, one more page; the third page is not needed
    assert result.date == day
    assert set(result.tables) == {rows.ActivitySummary, rows.ActivityLog}
    log_ids = [getattr(row, "log_id", None) for row in result.tables[rows.ActivityLog]]
    assert log_ids == [*range(100), 500]
    # The answers said 97 were left; the page spent after the first of them is not in that count.
    assert (await budget.state("fitbit", "ABC")).remaining == 96


async def test_fetch_day_spends_the_plan_before_the_first_call(
    seen: Seen, budget: RateBudget
) -> None:
    await budget.observe("fitbit", "ABC", RateLimitReading(remaining=1, reset_seconds=600))
    client = _client(_answer(200, {}), seen)
    meter = budget.meter("fitbit", "ABC", Priority.LIVE)
    with pytest.raises(errors.RateLimited) as caught:
        await fetch_day(client, "ABC", "body", dt.date(2026, 3, 9), token=TOKEN, meter=meter)
    assert caught.value.retry_after == pytest.approx(600, abs=1)
    assert seen.requests == []  # two calls do not fit in one: none is made


async def test_fetch_day_of_each_collection(seen: Seen, budget: RateBudget) -> None:
    bodies = {
        "weight": examples.load("fitbit-dotnet/GetWeight.json"),
        "fat": examples.load("fitbit-dotnet/GetFat.json"),
        "water": examples.load("fitbit-dotnet/GetWater-WaterData.json"),
        "foods": examples.load("fitbit-dotnet/GetFoodLogs.json"),
        "sleep": examples.load("fitbit-dotnet/GetSleep.json"),
    }

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        name = next(n for n in ("weight", "fat", "water", "sleep", "foods") if f"/{n}/" in path)
        return httpx.Response(200, json=bodies[name], headers=LIMITS)

    client = _client(answer, seen)
    meter = budget.meter("fitbit", "ABC", Priority.BACKFILL)
    kinds = {}
    for collection in ("body", "foods", "sleep"):
        found = await fetch_day(
            client, "ABC", collection, dt.date(2026, 3, 9), token=TOKEN, meter=meter
        )
        kinds[collection] = set(found.tables)
    assert kinds == {
        "body": {rows.WeightLog, rows.BodyFatLog},
        "foods": {rows.FoodLog, rows.NutritionSummary, rows.WaterLog, rows.WaterSummary},
        "sleep": {rows.SleepLog},
    }
    assert len(seen.requests) == 5
