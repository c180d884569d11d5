"""The Google Health side of one sync: fetch a person's (data type, local date) into rows."""

from __future__ import annotations

import datetime as dt

from service.providers import errors
from service.providers.google_health import fetch
from service.providers.google_health.client import GoogleHealthClient
from service.providers.google_health.datatypes import SUMMARY_TYPES
from service.providers.google_health.records import DayBuilder
from service.providers.ratelimit import Meter
from service.providers.rows import DayData


async def fetch_day(
    client: GoogleHealthClient,
    owner_id: str,
    collection: str,
    date: dt.date,
    *,
    token: str,
    meter: Meter,
) -> DayData:
    """Everything Google has for the key, after spending the calls from the person's budget.

    `owner_id` (the healthUserId) only names the key: reads go to `users/me` with the person's
    token. The plan's calls are spent at once, before the first, so a key is fetched whole or
    deferred whole; each further page is spent when it is needed.

    A summary member the person did not grant the scope of (403) leaves its fields empty
    rather than failing the summary: the members need two scopes, and a person may grant one.
    Only when every member is refused does the key fail. Raises `UnknownCollection` and the
    errors of `GoogleHealthClient.call`.
    """
    del owner_id
    calls = fetch.plan(collection, date)
    await meter.spend(len(calls))
    day = DayBuilder(date)
    refused: list[errors.InsufficientScope] = []
    for call in calls:
        try:
            await _read(client, call, day, token=token, meter=meter)
        except errors.InsufficientScope as exc:
            if call.data_type not in SUMMARY_TYPES:
                raise
            refused.append(exc)
            day.refuse(call)
    if refused and len(refused) == len(calls):
        raise refused[0]
    return day.build()


async def _read(
    client: GoogleHealthClient, call: fetch.Call, day: DayBuilder, *, token: str, meter: Meter
) -> None:
    """One call of the plan, every page of it, into `day`."""
    page: fetch.Call | None = call
    while page is not None:
        body = await client.call(
            page.method,
            page.path,
            token=token,
            params=page.params,
            json=page.body,
            observe=meter.observe,
        )
        day.add(page, body)
        page = fetch.next_page(page, body)
        if page is not None:
            await meter.spend(1)
