"""The Google webhook's work per push: the body parsed once, the signature decoded once."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from service.providers.google_health import keyset, signature
from service.providers.google_health.keyset import KeysetCache
from service.providers.google_health.provider import GoogleHealthWebhook

SECRET = "Bearer unit-secret"
KEYSET_URL = "https://keys.test/keyset.json"
BODY = json.dumps(
    {
        "data": {
            "healthUserId": "u1",
            "dataType": "weight",
            "operation": "UPSERT",
            "intervals": [{"civilIso8601TimeInterval": {"startTime": "2026-03-07T08:00:00"}}],
        }
    }
).encode()


def _counting(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str, first: object
) -> list[object]:
    """Record each call of `module.name` whose first argument is `first` (equal bytes or text)."""
    seen: list[object] = []
    real: Callable[..., Any] = getattr(module, name)

    def counted(arg: Any, *args: Any, **kwargs: Any) -> Any:
        if arg == first:
            seen.append(arg)
        return real(arg, *args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return seen


async def test_a_push_is_parsed_once_and_its_signature_decoded_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    document = keyset.keyset_document({7: key.public_key()})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))
    header = signature.sign(BODY, 7, key)
    headers = {"X-HEALTHAPI-SIGNATURE": header, "Authorization": SECRET}
    async with httpx.AsyncClient(transport=transport) as http:
        hook = GoogleHealthWebhook(SECRET, KeysetCache(http, KEYSET_URL))
        await hook.keys.keys()  # the keyset is in hand, as after the first push
        parsed = _counting(monkeypatch, json, "loads", BODY)
        decoded = _counting(monkeypatch, base64, "b64decode", header)
        # The order of the webhook route.
        assert hook.verify_post(headers, BODY) is None
        assert await hook.authenticate(headers, BODY) is None
        [change] = hook.parse(BODY)
    assert change.collection == "weight"
    assert (len(parsed), len(decoded)) == (1, 1)
