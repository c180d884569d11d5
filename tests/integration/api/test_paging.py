"""Paging as the Fitbit Plus API describes it: skip-based and cursor-based, `meta.count`,
and a 400 naming the parameter for every malformed request."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api.paging import Cursor, encode_cursor
from service.store.models import Notification
from tests.integration.api import rows

ROWS = 1000
TIMES = [rows.T0 + dt.timedelta(minutes=m) for m in range(60)]  # many rows share a time
DATES = [None, *(dt.date(2026, 11, d) for d in range(1, 29))]


def random_row(rng: random.Random) -> dict[str, Any]:
    return rows.notification(received_at=rng.choice(TIMES), date=rng.choice(DATES))


@dataclass
class Inserter:
    """Inserts notifications one by one, anywhere in any order, while a walk goes on."""

    engine: AsyncEngine
    rng: random.Random
    committed: dict[int, dict[str, Any]] = field(default_factory=dict)

    async def run(self) -> None:
        while True:
            row = random_row(self.rng)
            (id_,) = await rows.notifications(self.engine, [row])
            self.committed[id_] = row
            await asyncio.sleep(0.003)


@asynccontextmanager
async def inserting(engine: AsyncEngine, seed: int) -> AsyncIterator[Inserter]:
    inserter = Inserter(engine, random.Random(seed))
    task = asyncio.create_task(inserter.run())
    try:
        yield inserter
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def seed(engine: AsyncEngine, count: int = ROWS) -> dict[int, dict[str, Any]]:
    rng = random.Random(7)
    items = [random_row(rng) for _ in range(count)]
    return dict(zip(await rows.notifications(engine, items), items, strict=True))


async def row_count(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Notification)) or 0)


def order_key(sort: str) -> Callable[[int, dict[str, Any]], tuple[Any, ...]]:
    """The order the API promises, in Python: NULLs last ascending, first descending; id last."""
    column = {"received_at": "received_at", "date": "date"}[sort.lstrip("-")]

    def key(id_: int, row: dict[str, Any]) -> tuple[Any, ...]:
        value = row[column]
        number = (
            0 if value is None else value.toordinal() if column == "date" else value.timestamp()
        )
        if sort.startswith("-"):
            return (value is not None, -number, -id_)
        return (value is None, number, id_)

    return key


@dataclass
class Request:
    position: tuple[Any, ...] | None  # the order key of the last row before this page
    known: dict[int, dict[str, Any]]  # every row committed before it was sent


@pytest.mark.parametrize("sort", ["received_at", "-received_at", "date", "-date"])
async def test_a_cursor_walk_sees_every_row_once_while_rows_arrive(
    v1: httpx.AsyncClient, db: AsyncEngine, sort: str
) -> None:
    """Rows land before and after the walk's position, with equal sort values; none repeats,
    none that was there (or arrived beyond the position) is missed, and the walk stays ordered."""
    original = await seed(db)
    key = order_key(sort)
    seen: list[int] = []
    requests: list[Request] = []
    url: str | None = f"/v1/notifications?sort={sort}&page[limit]=37"
    async with inserting(db, seed=len(sort)) as inserter:
        while url is not None:
            assert len(requests) < 100, "the walk does not end"
            position = key(seen[-1], everything(original, inserter)[seen[-1]]) if seen else None
            requests.append(Request(position, everything(original, inserter)))
            before = await row_count(db)
            page = (await v1.get(url)).json()
            assert before <= page["meta"]["count"] <= await row_count(db)
            seen += [int(item["id"]) for item in page["data"]]
            url = page["links"].get("next")
    rows_by_id = everything(original, inserter)
    assert len(seen) == len(set(seen)), "a row was sent twice"
    assert set(original) <= set(seen)
    assert [key(i, rows_by_id[i]) for i in seen] == sorted(key(i, rows_by_id[i]) for i in seen)
    for request in requests:
        beyond = {
            i
            for i, row in request.known.items()
            if (key(i, row) > request.position if request.position else True)
        }
        assert beyond <= set(seen), "a row beyond the walk's position was missed"
    assert len(inserter.committed) > 10  # rows really did arrive during the walk


def everything(
    original: dict[int, dict[str, Any]], inserter: Inserter
) -> dict[int, dict[str, Any]]:
    return {**original, **inserter.committed}


async def test_a_skip_walk_pages_through_while_rows_are_appended(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    original = await seed(db)
    seen: list[int] = []
    url: str | None = "/v1/notifications?page[size]=40"
    async with inserting(db, seed=3) as inserter:
        while url is not None:
            assert len(seen) < 2 * ROWS, "the walk does not end"
            before = await row_count(db)
            page = (await v1.get(url)).json()
            assert before <= page["meta"]["count"] <= await row_count(db)
            assert set(page["links"]) == {"self", "first", "last", "prev", "next"}
            seen += [int(item["id"]) for item in page["data"]]
            url = page["links"]["next"]
    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)  # new rows sort last by id, so nothing shifts
    assert seen == sorted(seen)
    assert len(inserter.committed) > 10


async def test_a_zero_size_or_limit_gives_only_the_count(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    await seed(db, 30)
    for parameter in ("page[size]", "page[limit]"):
        page = (await v1.get(f"/v1/notifications?{parameter}=0")).json()
        assert page["data"] == []
        assert page["meta"] == {"count": 30}
        assert set(page["links"]) == {"self"}


async def test_skip_links_and_the_default(v1: httpx.AsyncClient, db: AsyncEngine) -> None:
    await seed(db, 25)
    middle = (await v1.get("/v1/notifications?page[size]=10&page[number]=2&sort=-id")).json()
    links = middle["links"]
    assert [int(item["id"]) for item in middle["data"]] == list(range(15, 5, -1))
    for name, number in [("first", 1), ("last", 3), ("prev", 1), ("next", 3)]:
        query = httpx.URL(links[name]).params
        assert (query["page[number]"], query["page[size]"], query["sort"]) == (
            str(number),
            "10",
            "-id",
        )
    last = (await v1.get(links["last"])).json()
    assert (len(last["data"]), last["links"]["next"]) == (5, None)
    first = (await v1.get(links["first"])).json()
    assert first["links"]["prev"] is None
    beyond = (await v1.get("/v1/notifications?page[size]=10&page[number]=9")).json()
    assert beyond["data"] == []
    assert httpx.URL(beyond["links"]["prev"]).params["page[number]"] == "3"
    default = (await v1.get("/v1/notifications")).json()
    assert len(default["data"]) == 25
    assert httpx.URL(default["links"]["first"]).params["page[size]"] == "50"


async def test_cursor_links_keep_the_query_and_stop_at_the_end(
    v1: httpx.AsyncClient, db: AsyncEngine
) -> None:
    await seed(db, 10)
    first = (await v1.get("/v1/notifications?page[limit]=6&filter[collection]=activities")).json()
    params = httpx.URL(first["links"]["next"]).params
    assert (params["page[limit]"], params["filter[collection]"]) == ("6", "activities")
    assert set(first["links"]) == {"self", "next"}
    last = (await v1.get(first["links"]["next"])).json()
    assert len(last["data"]) == 4
    assert "next" not in last["links"]
    exact = (await v1.get("/v1/notifications?page[limit]=10")).json()
    assert "next" not in exact["links"]  # no empty page to fetch after exactly 10


CURSOR = encode_cursor(Cursor("id", (5,)))


BAD_PARAMETERS = [
    ("page[size]=-1", "page[size]"),
    ("page[size]=abc", "page[size]"),
    ("page[size]=1.5", "page[size]"),
    ("page[size]=", "page[size]"),
    ("page[size]=501", "page[size]"),
    ("page[number]=0", "page[number]"),
    ("page[number]=-2", "page[number]"),
    ("page[number]=x", "page[number]"),
    ("page[limit]=-1", "page[limit]"),
    ("page[limit]=ten", "page[limit]"),
    ("page[limit]=501", "page[limit]"),
    ("page[size]=5&page[limit]=5", "page[limit]"),
    ("page[number]=2&page[after]=" + CURSOR, "page[after]"),
    ("page[offset]=10", "page[offset]"),
    ("page[after]=not-a-cursor", "page[after]"),
    ("page[limit]=5&page[after]=" + encode_cursor(Cursor("-id", (5,))), "page[after]"),
    ("page[limit]=5&page[after]=" + encode_cursor(Cursor("id", ("five",))), "page[after]"),
    ("page[limit]=5&page[after]=" + encode_cursor(Cursor("id", (5, 6))), "page[after]"),
    ("sort=received_at&page[limit]=5&page[after]=" + CURSOR, "page[after]"),
    (
        "sort=received_at&page[limit]=5&page[after]="
        + encode_cursor(Cursor("received_at", (dt.datetime(2026, 1, 1), 5))),  # noqa: DTZ001
        "page[after]",
    ),
    ("page[limit]=5&page[limit]=6", "page[limit]"),
    ("sort=nothing", "sort"),
    ("sort=raw", "sort"),
    ("sort=id,-id", "sort"),
    ("sort=", "sort"),
    ("filter[nothing]=1", "filter[nothing]"),
    ("filter[user]=abc", "filter[user]"),
    ("filter[date]=2026-13-01", "filter[date]"),
    ("filter[date][gte]=yesterday", "filter[date][gte]"),
    ("filter[date][between]=2026-11-01", "filter[date][between]"),
    ("filter[collection][gte]=a", "filter[collection][gte]"),
    ("filter[received_at][gte]=2026-11-21T08:00:00", "filter[received_at][gte]"),
    ("filter[received_at][lt]=2026-11-21T08:00:00 00:00", "filter[received_at][lt]"),
    ("filter=1", "filter"),
    ("include=user", "include"),
    ("fields[notifications]=date", "fields[notifications]"),
    ("anything=1", "anything"),
]


async def test_a_bad_parameter_is_a_400_naming_it(
    v1: httpx.AsyncClient, subtests: pytest.Subtests
) -> None:
    for query, parameter in BAD_PARAMETERS:
        with subtests.test(query=query):
            answer = await v1.get(f"/v1/notifications?{query}")
            assert answer.status_code == 400, answer.text
            (error,) = answer.json()["errors"]
            assert error["source"] == {"parameter": parameter}
            assert (error["status"], error["code"]) == ("400", "InvalidParameter")
