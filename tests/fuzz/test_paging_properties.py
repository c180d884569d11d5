"""Cursor paging under any interleaving of arrivals: whatever rows arrive between the pages of
a walk, wherever they sort, the walk returns every row that was there when it began exactly
once, and no row twice.

Rows arrive the way they do in production, as signed notifications through the webhook, and
the walk follows `links.next` of `/v1/notifications`, over HTTP against PostgreSQL.
`tests/integration/api/test_paging.py` walks a thousand rows under one random arrival
pattern per sort; here Hypothesis chooses the rows, the sort, the page size and the arrivals,
and shrinks a failure to the smallest such story.
"""

from __future__ import annotations

import itertools
import json

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.providers.fitbit import signature
from tests.conftest import CLIENT_SECRET
from tests.fuzz.conftest import Served, at_least

# Few values, so that rows often tie on the sort fields and only the id tells them apart.
OWNERS = ("A", "B", "C")
COLLECTIONS = ("activities", "body", "sleep")
DATES = ("2026-11-19", "2026-11-20", "2026-11-21")
SORTS = (
    "id",
    "-id",
    "date",
    "-date",
    "received_at",
    "-received_at",
    "owner_id,-date",
    "collection,date,-received_at",
)

Item = tuple[str, str, str]
items = st.tuples(st.sampled_from(OWNERS), st.sampled_from(COLLECTIONS), st.sampled_from(DATES))
RUNS = itertools.count()  # each example's owners are its own, so examples do not mix


def deliver(client: httpx.Client, prefix: str, batch: list[Item]) -> None:
    body = json.dumps(
        [
            {
                "collectionType": collection,
                "date": date,
                "ownerId": prefix + owner,
                "ownerType": "user",
                "subscriptionId": f"{prefix}{owner}-{collection}",
            }
            for owner, collection, date in batch
        ]
    ).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Fitbit-Signature": signature.sign(body, CLIENT_SECRET),
    }
    answer = client.post("/fitbit/webhook", content=body, headers=headers)
    assert answer.status_code == 204, answer.text


@settings(
    max_examples=at_least(20),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.lists(items, max_size=20),
    sort=st.sampled_from(SORTS),
    limit=st.integers(min_value=1, max_value=6),
    arrivals=st.lists(st.lists(items, min_size=1, max_size=4), max_size=10),
)
def test_a_cursor_walk_returns_each_row_once_whatever_arrives(
    served: Served, initial: list[Item], sort: str, limit: int, arrivals: list[list[Item]]
) -> None:
    prefix = f"P{next(RUNS)}"
    owners = ",".join(prefix + owner for owner in OWNERS)
    bearer = {"Authorization": f"Bearer {served.token}"}
    with httpx.Client(base_url=served.url, headers=bearer) as client:
        if initial:
            deliver(client, prefix, initial)
        everything = client.get(
            "/v1/notifications", params={"filter[owner]": owners, "page[limit]": 500}
        ).json()
        present = {item["id"] for item in everything["data"]}
        assert len(present) == len(initial)

        seen: list[str] = []
        pending = list(arrivals)
        url: str | None = str(
            httpx.URL(
                "/v1/notifications",
                params={"filter[owner]": owners, "sort": sort, "page[limit]": limit},
            )
        )
        while url is not None:
            assert len(seen) <= len(initial) + sum(map(len, arrivals)), "the walk does not end"
            page = client.get(url)
            assert page.status_code == 200, page.text
            seen += [item["id"] for item in page.json()["data"]]
            if pending:
                deliver(client, prefix, pending.pop(0))
            url = page.json()["links"].get("next")

    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert present <= set(seen), "a row present at the start was missed"
