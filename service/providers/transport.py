"""One request to a provider's API: counted for `/metrics`, a missing answer made an error.

Both providers' clients send through here, so every call is counted alike and a request that
gets no answer (timeout, refused connection) is always `ProviderUnavailable`, which is transient.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from service.providers import calls, errors

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
        calls.record(provider, method, path, "error")
        raise errors.ProviderUnavailable(f"{method} {path}: {type(exc).__name__}") from None
    calls.record(provider, method, path, response.status_code)
    return response
