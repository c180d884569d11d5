"""Fitbit Web API data calls: GET with a user's Bearer token.

Every answer is mapped onto the provider error tree (`service.providers.errors`):

    401 expired_token                 AuthExpired           refresh once, then retry
    401 anything else                 InvalidToken
    403                               InsufficientScope     the person did not grant the scope
    404                               NotFound
    429                               RateLimited           retry_after = Fitbit-Rate-Limit-Reset
    400 invalid_grant                 InvalidGrant
    5xx, timeout, connection error    ProviderUnavailable   transient
    a 200 that is not JSON            ProviderUnavailable   a proxy's page, not Fitbit's answer
    any other status                  UnexpectedResponse

Every answer that carries `Fitbit-Rate-Limit-Remaining` and `-Reset` (seconds until the window
resets) is reported to the caller's `observe` before anything is raised, so the rate budget
learns even from errors. Error messages name the status and Fitbit's `errorType`, never the
body: Fitbit's messages can quote the access token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from service.providers import errors, transport
from service.providers.fitbit import PROVIDER
from service.providers.ratelimit import RateLimitReading

Observe = Callable[[RateLimitReading], Awaitable[None]]

# Fitbit says "try again at the start of the hour"; when a 429 names no time, assume a minute.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class FitbitClient:
    http: httpx.AsyncClient  # must not send Accept-Language: without it Fitbit answers metric
    api_url: str

    async def get(self, path: str, *, token: str, observe: Observe | None = None) -> Any:
        """The JSON body of `GET {api_url}{path}`, or the error its answer means."""
        response = await self.send("GET", path, token=token, headers={"Accept": "application/json"})
        reading = rate_limit(response)
        if reading is not None and observe is not None:
            await observe(reading)
        raise_for_status(response, path)
        try:
            return response.json()
        except ValueError:
            raise errors.ProviderUnavailable(f"GET {path}: answer is not JSON") from None

    async def send(
        self, method: str, path: str, *, token: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """The raw answer, counted for `/metrics`; no answer at all is `ProviderUnavailable`."""
        headers = {"Authorization": f"Bearer {token}", **(headers or {})}
        return await transport.send(
            self.http, PROVIDER, method, self.api_url, path, headers=headers
        )


def rate_limit(response: httpx.Response) -> RateLimitReading | None:
    """What the answer says about the user's budget; a 429 always says it is spent."""
    remaining = _header_int(response, "fitbit-rate-limit-remaining")
    reset = _header_int(response, "fitbit-rate-limit-reset")
    limit = _header_int(response, "fitbit-rate-limit-limit")
    if response.status_code == 429:
        return RateLimitReading(0, retry_after(response), limit)
    if remaining is None or reset is None:
        return None
    return RateLimitReading(remaining, float(reset), limit)


def retry_after(response: httpx.Response) -> float:
    """Seconds until a 429's window resets: Fitbit's own header, then the standard one."""
    for name in ("fitbit-rate-limit-reset", "retry-after"):
        seconds = _header_int(response, name)
        if seconds is not None:
            return float(seconds)
    return DEFAULT_RETRY_AFTER


def raise_for_status(response: httpx.Response, path: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    kind = error_type(response)
    what = f"GET {path}: {status} {kind or ''}".rstrip()
    if status == 401:
        raise errors.AuthExpired(what) if kind == "expired_token" else errors.InvalidToken(what)
    if status == 429:
        raise errors.RateLimited(what, retry_after=retry_after(response))
    if status >= 500:
        raise errors.ProviderUnavailable(what)
    if kind == "invalid_grant":
        raise errors.InvalidGrant(what)
    raise _BY_STATUS.get(status, errors.UnexpectedResponse)(what)


_BY_STATUS: dict[int, type[errors.ProviderError]] = {
    403: errors.InsufficientScope,
    404: errors.NotFound,
}


def error_type(response: httpx.Response) -> str | None:
    """The `errorType` of Fitbit's `{"errors": [{"errorType": ...}]}` error body."""
    try:
        body = response.json()
    except ValueError:
        return None
    listed = body.get("errors") if isinstance(body, dict) else None
    if isinstance(listed, list) and listed and isinstance(listed[0], dict):
        kind = listed[0].get("errorType")
        return kind if isinstance(kind, str) and kind else None
    return None


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None
