"""A Fitbit user moving to Google Health: re-consent through Google under the same user_ref,
matched by `legacyUserId`; the same user id, the Fitbit token revoked only once Google's is
stored, and a day both providers describe stored once."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, text

from service.store.models import AccountEvent, ProviderAccount, User
from tests.integration.conftest import REDIRECT_URI as FITBIT_REDIRECT_URI
from tests.integration.google_health.conftest import GoogleStack

FITBIT_USER = "MIG001"
HEALTH_USER = "g-migrating-user"
REF = "ref-migrating"
DAY = dt.date(2026, 11, 20)


async def _connect_fitbit(google: GoogleStack, user_ref: str = REF) -> None:
    await google.emulator.configure(subscriber_url=f"{google.url}/fitbit/webhook")
    asked = await google.connector.ask(user_ref, None, "fitbit")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(f"{asked.url}&user_id={FITBIT_USER}")
    location = consent.headers["location"].removesuffix("#_=_")
    assert location.startswith(FITBIT_REDIRECT_URI)
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    answer = await google.service.get("/fitbit/callback", params=query)
    assert answer.status_code == 200, answer.text


async def _accounts(google: GoogleStack) -> dict[str, Any]:
    async with google.engine.connect() as conn:
        return {a.provider: a for a in await conn.execute(select(ProviderAccount))}


async def _sleep_rows(google: GoogleStack) -> list[dict[str, Any]]:
    async with google.engine.connect() as conn:
        result = await conn.execute(text("SELECT * FROM sleep_log ORDER BY provider, log_id"))
        return [dict(row._mapping) for row in result]


async def test_a_fitbit_user_keeps_their_user_id_and_their_day_is_not_doubled(
    google: GoogleStack,
) -> None:
    await _connect_fitbit(google)
    await google.emulator.add_log(FITBIT_USER, "sleep", DAY)
    assert {d.status for d in await google.emulator.flush()} == {204}
    await google.run_worker()
    assert {r["provider"] for r in await _sleep_rows(google) if r["date"] == DAY} == {"fitbit"}
    fitbit_token = await google.connector.vault.access_token((await _accounts(google))["fitbit"].id)

    await google.create_subscriber()
    await google.emulator.google.put_user(HEALTH_USER, legacy_user_id=FITBIT_USER)
    answer = await google.consent(REF, HEALTH_USER)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "migrated"

    accounts = await _accounts(google)
    assert accounts["fitbit"].user_id == accounts["google_health"].user_id
    assert accounts["google_health"].refresh_token is not None
    assert accounts["fitbit"].refresh_token is None  # revoked and forgotten, data kept
    async with google.engine.connect() as conn:
        [user] = list(await conn.execute(select(User)))
        kinds = [e.kind for e in await conn.execute(select(AccountEvent).order_by(AccountEvent.id))]
    assert user.status.value == "active"
    assert kinds[-2:] == ["migrated", "retired"]
    assert [s for s in await google.emulator.subscriptions() if s.owner_id == FITBIT_USER] == []
    async with httpx.AsyncClient() as http:
        profile = await http.get(
            f"{google.settings.fitbit_api_url}/1/user/-/profile.json",
            headers={"Authorization": f"Bearer {fitbit_token}"},
        )
    assert profile.status_code == 401

    end = dt.datetime.combine(DAY, dt.time(6, 30), tzinfo=dt.UTC)
    await google.emulator.google.add_point(
        HEALTH_USER, "sleep", DAY, start=end - dt.timedelta(hours=7), end=end
    )
    await google.deliver()
    await google.run_worker()
    today = [r for r in await _sleep_rows(google) if r["date"] == DAY]
    assert {r["provider"] for r in today} == {"google_health"}
    assert {r["user_id"] for r in today} == {user.id}


async def test_a_fitbit_account_under_another_user_ref_is_a_conflict(
    google: GoogleStack,
) -> None:
    await _connect_fitbit(google, "ref-someone")
    await google.create_subscriber()
    await google.emulator.google.put_user(HEALTH_USER, legacy_user_id=FITBIT_USER)
    answer = await google.consent("ref-someone-else", HEALTH_USER)
    assert answer.status_code == 409, answer.text
    accounts = await _accounts(google)
    assert set(accounts) == {"fitbit"}
    assert accounts["fitbit"].refresh_token is not None  # still connected through Fitbit


async def test_a_google_user_without_a_fitbit_past_connects_as_new(google: GoogleStack) -> None:
    await google.emulator.google.put_user(HEALTH_USER, legacy_user_id="NOSUCH")
    answer = await google.consent(REF, HEALTH_USER)
    assert answer.json()["status"] == "connected"
