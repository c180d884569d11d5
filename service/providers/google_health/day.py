"""The Google Health side of one sync: fetch a person's (data type, local date) into rows."""

from __future__ import annotations

import datetime as dt

from service.providers.google_health import fetch
from service.providers.google_health.client import GoogleHealthClient
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
    deferred whole; each further page is spent when it is needed. Raises `UnknownCollection`
    and the errors of `GoogleHealthClient.call`.
    """
    del owner_id
    calls = fetch.plan(collection, date)
    await meter.spend(len(calls))
    day = DayBuilder(date)
    for call in calls:
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
    return day.build()
