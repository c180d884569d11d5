"""The Fitbit side of one sync: fetch a user's (collection, date) and parse it into rows."""

from __future__ import annotations

import datetime as dt

from service.providers.fitbit import fetch, records
from service.providers.fitbit.client import FitbitClient
from service.providers.ratelimit import Meter
from service.providers.rows import DayData


async def fetch_day(
    client: FitbitClient,
    owner_id: str,
    collection: str,
    date: dt.date,
    *,
    token: str,
    meter: Meter,
) -> DayData:
    """Everything Fitbit has for the key, after spending the calls from the user's budget.

    The plan's calls are spent at once, before the first: a key either fits in the budget or
    is deferred whole, never left half fetched. A further page is spent when it is needed.
    Raises `UnknownCollection` and the errors of `FitbitClient.get`.
    """
    calls = fetch.plan(owner_id, collection, date)
    await meter.spend(len(calls))
    tables: records.Tables = {}
    for call in calls:
        records.merge(tables, await _pages(client, call, date, token, meter))
    return DayData(date, tables)


async def _pages(
    client: FitbitClient, call: fetch.Call, date: dt.date, token: str, meter: Meter
) -> records.Tables:
    tables: records.Tables = {}
    page: fetch.Call | None = call
    while page is not None:
        body = await client.get(page.path, token=token, observe=meter.observe)
        records.merge(tables, records.parse(call.endpoint, date, body))
        page = fetch.next_page(page, body, date)
        if page is not None:
            await meter.spend(1)
    return tables
