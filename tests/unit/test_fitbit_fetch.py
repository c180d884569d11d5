"""Fetch plans: the fewest Fitbit calls that bring one (owner, collection, date) up to date."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from service.providers.base import UnknownCollection
from service.providers.fitbit import fetch
from service.providers.fitbit.fetch import Call, Endpoint

DAY = dt.date(2026, 3, 9)


def _paths(collection: str, owner: str = "ABC123") -> list[str]:
    return [call.path for call in fetch.plan(owner, collection, DAY)]


def test_activities() -> None:
    summary, logs = fetch.plan("ABC123", "activities", DAY)
    assert summary == Call(
        Endpoint.ACTIVITY_SUMMARY, "/1/user/ABC123/activities/date/2026-03-09.json"
    )
    assert logs.endpoint is Endpoint.ACTIVITY_LOGS
    parts = urlsplit(logs.path)
    assert parts.path == "/1/user/ABC123/activities/list.json"
    # One bound only (Fitbit's rule): from the last second of the day before, oldest first.
    assert parse_qs(parts.query) == {
        "afterDate": ["2026-03-08T23:59:59"],
        "sort": ["asc"],
        "offset": ["0"],
        "limit": ["100"],
    }


def test_body() -> None:
    assert _paths("body") == [
        "/1/user/ABC123/body/log/weight/date/2026-03-09.json",
        "/1/user/ABC123/body/log/fat/date/2026-03-09.json",
    ]


def test_foods() -> None:
    assert _paths("foods") == [
        "/1/user/ABC123/foods/log/date/2026-03-09.json",
        "/1/user/ABC123/foods/log/water/date/2026-03-09.json",
    ]


def test_sleep_uses_version_1_2() -> None:
    assert _paths("sleep") == ["/1.2/user/ABC123/sleep/date/2026-03-09.json"]


def test_owner_id_is_quoted() -> None:
    assert _paths("sleep", owner="a/b c") == ["/1.2/user/a%2Fb%20c/sleep/date/2026-03-09.json"]


@pytest.mark.parametrize("collection", ["userRevokedAccess", "account_deleted", "heartrate", ""])
def test_collections_without_data_endpoints(collection: str) -> None:
    with pytest.raises(UnknownCollection):
        fetch.plan("ABC123", collection, DAY)


def _logs_call() -> Call:
    return fetch.plan("ABC123", "activities", DAY)[1]


def _page(*starts: str, next_link: str = "") -> dict[str, object]:
    return {
        "activities": [{"logId": i, "startTime": start} for i, start in enumerate(starts)],
        "pagination": {"next": next_link, "previous": ""},
    }


NEXT = "https://api.fitbit.com/1/user/-/activities/list.json?offset=100&limit=100&sort=asc&afterDate=2026-03-08T23%3A59%3A59"


def test_next_page_follows_fitbits_link_on_our_host() -> None:
    body = _page("2026-03-09T08:00:00.000", next_link=NEXT)
    following = fetch.next_page(_logs_call(), body, DAY)
    assert following == Call(
        Endpoint.ACTIVITY_LOGS,
        "/1/user/-/activities/list.json?offset=100&limit=100&sort=asc&afterDate=2026-03-08T23%3A59%3A59",
        page=2,
    )


def test_no_next_page_once_the_list_passes_the_day() -> None:
    body = _page("2026-03-09T08:00:00.000", "2026-03-10T07:00:00.000-08:00", next_link=NEXT)
    assert fetch.next_page(_logs_call(), body, DAY) is None


def test_no_next_page_at_the_end_of_the_list() -> None:
    assert fetch.next_page(_logs_call(), _page("2026-03-09T08:00:00.000"), DAY) is None


def test_no_next_page_for_other_endpoints() -> None:
    sleep = fetch.plan("ABC123", "sleep", DAY)[0]
    assert fetch.next_page(sleep, _page(next_link=NEXT), DAY) is None


def test_pages_are_bounded() -> None:
    last = Call(Endpoint.ACTIVITY_LOGS, "/x", page=fetch.MAX_ACTIVITY_PAGES)
    assert fetch.next_page(last, _page("2026-03-09T08:00:00", next_link=NEXT), DAY) is None


def test_a_link_to_the_same_page_is_not_followed() -> None:
    here = fetch.next_page(_logs_call(), _page(next_link=NEXT), DAY)
    assert here is not None
    assert fetch.next_page(here, _page(next_link=NEXT), DAY) is None
