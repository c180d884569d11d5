"""The demo `fitbit-subscriber dev` runs: a connected person whose data keeps changing."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from service.api import clients
from service.connect.runtime import open_connector
from service.settings import Settings
from service.store.db import create_engine

DEMO_USER = "DEMO01"
DEMO_REF = "demo"
STARTUP_SECONDS = 60.0
CHANGE_EVERY_SECONDS = (2.0, 5.0)


async def wait_until_up(
    port: int, emulator_port: int, children: list[subprocess.Popen[bytes]]
) -> None:
    urls = [f"http://127.0.0.1:{port}/readyz", f"http://127.0.0.1:{emulator_port}/_emulator/health"]
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(timeout=2) as http:
        for url in urls:
            while not await _answers(http, url):
                if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                    raise RuntimeError(f"{url} did not come up")
                await asyncio.sleep(0.2)


async def _answers(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Demo:
    api: str
    emulator: str
    client_id: str
    client_secret: str
    user_id: str
    verification: str

    @classmethod
    async def prepare(
        cls, env: dict[str, str], secrets: Path, port: int, emulator_port: int
    ) -> Demo:
        settings = Settings(_env_file=None)  # the dev process's environment is the stack's
        api, emulator = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{emulator_port}"
        async with httpx.AsyncClient(timeout=10) as http:
            verification = await _verify(http, emulator)
            user_id = await _connect(http, settings)
        client_id, secret = await _api_client(settings, env, secrets)
        return cls(api, emulator, client_id, secret, user_id, verification)

    def print_banner(self) -> None:
        token = (
            f"$(curl -s -u {self.client_id}:{self.client_secret} -d grant_type=client_credentials "
            f"{self.api}/oauth/token | python3 -c 'import json,sys;print(json.load(sys.stdin)"
            f'["access_token"])\')'
        )
        today = dt.date.today().isoformat()  # noqa: DTZ011 - the demo person's local day
        print(
            f"\nfitbit-subscriber is running against the Fitbit emulator\n"
            f"  API docs      {self.api}/docs\n"
            f"  webhook       {self.api}/fitbit/webhook   ({self.verification})\n"
            f"  emulator      {self.emulator}/_emulator/app\n"
            f"  demo person   Fitbit user {DEMO_USER}, our user id {self.user_id}\n"
            f"  API client    id {self.client_id}  secret {self.client_secret}\n"
            f"\nToday's steps of the demo person:\n"
            f'  curl -gs -H "Authorization: Bearer {token}" \\\n'
            f"    '{self.api}/v1/activity-summaries?filter[user]={self.user_id}"
            f"&filter[date][gte]={today}'\n"
            f"\nThe emulator changes the demo person's data every few seconds. Ctrl-C stops.\n",
            flush=True,
        )


async def _verify(http: httpx.AsyncClient, emulator: str) -> str:
    result = (await http.post(f"{emulator}/_emulator/app/verify")).json()
    return (
        f"verification handshake: {result}"
        if not isinstance(result, dict)
        else ("verified" if result.get("verified") else f"verification failed: {result}")
    )


async def _connect(http: httpx.AsyncClient, settings: Settings) -> str:
    """Through the real OAuth flow: consent URL, the emulated person consents, our callback."""
    async with open_connector(settings) as connector:
        url = await connector.begin(DEMO_REF, None)
    consent = await http.get(f"{url}&user_id={DEMO_USER}")
    callback = consent.headers["location"].removesuffix("#_=_")
    answer = (await http.get(callback)).json()
    if answer.get("status") not in ("connected", "reconnected"):
        raise RuntimeError(f"demo connection failed: {answer}")
    return str(answer["user_id"])


async def _api_client(settings: Settings, env: dict[str, str], secrets: Path) -> tuple[str, str]:
    """The demo API client: kept in the data folder, made anew if it was revoked."""
    engine: AsyncEngine = create_engine(settings, pool_size=1)
    try:
        async with engine.begin() as conn:
            known = env.get("DEV_API_CLIENT_ID"), env.get("DEV_API_CLIENT_SECRET")
            if known[0] and known[1] and await clients.authenticate(conn, known[0], known[1]):
                return known[0], known[1]
            made = await clients.create(
                conn, "dev demo", frozenset({"read", "subscriptions:write"})
            )
    finally:
        await engine.dispose()
    with secrets.open("a") as out:
        out.write(
            f"DEV_API_CLIENT_ID={made.record.client_id}\nDEV_API_CLIENT_SECRET={made.secret}\n"
        )
    return made.record.client_id, made.secret


async def produce_changes(demo: Demo, stop: asyncio.Event) -> None:
    """A realistic trickle: steps go up, a workout, a night's sleep, a weigh-in, water."""
    rng = random.Random()  # noqa: S311 - demo data, not security
    async with httpx.AsyncClient(base_url=f"{demo.emulator}/_emulator", timeout=10) as control:
        while not stop.is_set():
            await _one_change(control, rng)
            try:
                await asyncio.wait_for(stop.wait(), rng.uniform(*CHANGE_EVERY_SECONDS))
            except TimeoutError:
                continue


async def _one_change(control: httpx.AsyncClient, rng: random.Random) -> None:
    today = dt.date.today().isoformat()  # noqa: DTZ011 - the demo person's local day
    day = f"/users/{DEMO_USER}/data"
    choice = rng.choice(["steps", "steps", "steps", "sleep", "weight", "water", "activity"])
    if choice == "steps":
        steps = rng.randrange(2_000, 15_000)
        await control.patch(f"{day}/activities/{today}/summary", json={"steps": steps})
        print(f"emulator: {DEMO_USER} now has {steps} steps today", flush=True)
        return
    resource = {"sleep": "sleep", "weight": "weight", "water": "water", "activity": "activities"}
    await control.post(f"{day}/{resource[choice]}/{today}/logs", json={})
    print(f"emulator: {DEMO_USER} logged {choice} today", flush=True)
