"""The keyset cache: refetched once for an unknown key id, the last good keys kept through a
failed fetch, and a key id we hold never waiting behind a fetch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from service.providers.google_health import keyset
from service.providers.google_health.keyset import KeysetCache, KeysetUnavailable

TTL = 3600.0


def _document(*key_ids: int) -> dict[str, Any]:
    return keyset.keyset_document(
        {k: ec.generate_private_key(ec.SECP256R1()).public_key() for k in key_ids}
    )


@dataclass
class Gstatic:
    """The keyset URL: answers `document` (or `status`), held while `gate` is closed."""

    document: dict[str, Any]
    status: int = 200
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    fetches: int = 0

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        await self.gate.wait()
        if self.status != 200:
            return httpx.Response(self.status)
        return httpx.Response(200, json=self.document)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def gstatic() -> Gstatic:
    served = Gstatic(_document(7))
    served.gate.set()
    return served


@pytest.fixture
async def cache(gstatic: Gstatic) -> AsyncIterator[tuple[KeysetCache, Clock]]:
    clock = Clock()
    async with httpx.AsyncClient(transport=httpx.MockTransport(gstatic.handle)) as http:
        cache = KeysetCache(
            http, "https://gstatic.test/keys.json", ttl=TTL, min_refetch_interval=60, clock=clock
        )
        assert set(await cache.keys()) == {7}
        yield cache, clock


async def _let_run() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_known_key_is_served_at_once_while_a_refetch_hangs(
    cache: tuple[KeysetCache, Clock], gstatic: Gstatic
) -> None:
    keys, clock = cache
    clock.now += TTL + 1  # the keys are due for a refetch, too
    gstatic.gate.clear()
    gstatic.document = _document(7, 8)
    unknown = asyncio.create_task(keys.refetch_for(8))
    await _let_run()
    assert gstatic.fetches == 2  # the refetch is on the wire, held there
    for _ in range(3):
        assert 7 in await asyncio.wait_for(keys.keys(), timeout=0.5)
    assert not unknown.done()
    gstatic.gate.set()
    assert set(await unknown) == {7, 8}
    assert gstatic.fetches == 2  # the known-key lookups started no fetch of their own


async def test_past_the_ttl_the_held_keys_serve_while_the_refetch_runs_behind(
    cache: tuple[KeysetCache, Clock], gstatic: Gstatic
) -> None:
    keys, clock = cache
    clock.now += TTL + 1
    gstatic.gate.clear()
    gstatic.document = _document(9)
    assert set(await asyncio.wait_for(keys.keys(), timeout=0.5)) == {7}
    gstatic.gate.set()
    await _let_run()
    assert set(await keys.keys()) == {9}
    assert gstatic.fetches == 2


async def test_concurrent_unknown_key_ids_share_one_refetch(
    cache: tuple[KeysetCache, Clock], gstatic: Gstatic
) -> None:
    keys, clock = cache
    clock.now += 61  # past the least interval between fetches
    gstatic.gate.clear()
    gstatic.document = _document(7, 8)
    waiting = [asyncio.create_task(keys.refetch_for(8)) for _ in range(5)]
    await _let_run()
    gstatic.gate.set()
    assert all(set(found) == {7, 8} for found in await asyncio.gather(*waiting))
    assert gstatic.fetches == 2
    # Another unknown id moments later is not fetched again.
    assert 9 not in await keys.refetch_for(9)
    assert gstatic.fetches == 2


async def test_a_failed_fetch_keeps_the_last_good_keys(
    cache: tuple[KeysetCache, Clock], gstatic: Gstatic
) -> None:
    keys, clock = cache
    clock.now += 61
    gstatic.status = 503
    assert set(await keys.refetch_for(8)) == {7}
    assert gstatic.fetches == 2
    assert keys.last_error == "keyset fetch failed: HTTPStatusError"
    clock.now += TTL + 1
    assert set(await keys.keys()) == {7}
    await _let_run()
    assert gstatic.fetches == 3  # refetched past the TTL, failed again, kept
    assert set(await keys.keys()) == {7}
    clock.now += 7 * 86400.0
    with pytest.raises(KeysetUnavailable):
        await keys.keys()
