"""The logs of a real `serve` process: JSON lines with request ids, and never a secret.

The process runs at DEBUG, so everything any library logs is in the capture, and is driven
with signed, mis-signed and wrongly keyed notifications, verification codes right and wrong,
and a token in a query string.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from service.settings import Settings
from tests.conftest import CLIENT_SECRET, TOKEN_KEY, VERIFICATION_CODE
from tests.integration import processes
from tests.integration.test_webhook import encode, fitbit_signature, item

pytestmark = pytest.mark.slow

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIyMjhUUTQifQ.c2lnbmF0dXJlLWJ5dGVz"
WEBHOOK = "/fitbit/webhook"


async def _traffic(api: httpx.AsyncClient) -> tuple[list[str], httpx.Response]:
    """Drive the webhook; return every signature sent and one answer given a request id."""
    body = encode([item()])
    other = encode([item(ownerId="SOMEONE")])
    signatures = [
        fitbit_signature(body),
        fitbit_signature(other),  # a real signature, of another body
        fitbit_signature(body, secret="not-the-client-secret"),
    ]
    for signature in signatures:
        headers = {"content-type": "application/json", "x-fitbit-signature": signature}
        await api.post(WEBHOOK, content=body, headers=headers)
    await api.get(WEBHOOK, params={"verify": VERIFICATION_CODE})
    await api.get(WEBHOOK, params={"verify": "wrong-code-0001"})
    await api.get(WEBHOOK, params={"access_token": JWT})
    await api.get("/v1/users", headers={"authorization": f"Bearer {JWT}"})
    traced = await api.post(
        WEBHOOK,
        content=body,
        headers={"content-type": "application/json", "x-request-id": "trace-0042"},
    )
    return signatures, traced


def _events(output: Path) -> list[dict[str, Any]]:
    lines = [line for line in output.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


async def test_serve_logs_json_with_request_ids_and_no_secret(
    settings: Settings, db: AsyncEngine, redis: Redis, tmp_path: Path
) -> None:
    output = tmp_path / "serve.log"
    async with processes.serving(settings, output, LOG_LEVEL="DEBUG") as served:
        async with httpx.AsyncClient(base_url=served.url) as api:
            signatures, traced = await _traffic(api)
        assert await asyncio.to_thread(processes.stop, served.process) == 0

    text = output.read_text()
    for secret in [CLIENT_SECRET, VERIFICATION_CODE, TOKEN_KEY, JWT, *signatures]:
        assert secret not in text, f"{secret!r} reached the log"
    events = _events(output)  # every line is one JSON event
    assert all({"timestamp", "level", "logger", "message"} <= event.keys() for event in events)

    assert traced.headers["x-request-id"] == "trace-0042"
    traced_events = [e for e in events if e.get("request_id") == "trace-0042"]
    assert any(e["logger"] == "uvicorn.access" and e["status"] == 404 for e in traced_events)
    # Refused: the body signed for another, the wrong key, and the traced one (unsigned).
    refusals = [e for e in events if "signature" in e["message"] and e["level"] == "WARNING"]
    ids = sorted(e["request_id"] for e in refusals)
    assert len(ids) == 3
    assert ids[-1] == "trace-0042"
    assert all(len(made) == 32 for made in ids[:2])  # made here where none was given
