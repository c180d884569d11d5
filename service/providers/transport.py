"""One request to a provider's API: counted for `/metrics`, a missing answer made an error.

Both providers' clients send through here, so every call is counted alike and a request that
gets no answer (timeout, refused connection) is always `ProviderUnavailable`, which is transient.
Calls are counted by endpoint template, which keeps the metric's label set small and free of
personal data: path segments that name a person, a day or a subscription become placeholders.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import httpx

from service import metrics
from service.providers import errors

Params = Mapping[str, str | int]


async def send(
    http: httpx.AsyncClient,
    provider: str,
    method: str,
    api_url: str,
    path: str,
    *,
    headers: Mapping[str, str],
    params: Params | None = None,
    json: Any = None,
) -> httpx.Response:
    """The raw answer of `{method} {api_url}{path}`, counted under `path`'s template."""
    try:
        response = await http.request(
            method, f"{api_url}{path}", headers=headers, params=params, json=json
        )
    except httpx.RequestError as exc:
        _record(provider, method, path, "error")
        raise errors.ProviderUnavailable(f"{method} {path}: {type(exc).__name__}") from None
    _record(provider, method, path, response.status_code)
    return response


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A segment after one of these names one thing (a user, a subscriber, a subscription...).
_NAMED = re.compile(
    r"/(user|users|projects|subscribers|subscriptions|apiSubscriptions)/(?!-/|-$|me/|me$)[^/]+"
)


def template(path: str) -> str:
    """`/1/user/228TQ4/activities/date/2026-11-20.json` →
    `/1/user/{id}/activities/date/{date}.json`."""
    path = path.split("?", 1)[0]
    return _NAMED.sub(r"/\1/{id}", _DATE.sub("{date}", path))


def _record(provider: str, method: str, path: str, status: int | str) -> None:
    """One call made, answered with `status` ('error': no answer)."""
    metrics.provider_call(provider, f"{method} {template(path)}", status)
