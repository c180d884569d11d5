"""Google Health API calls over HTTP (`https://health.googleapis.com/v4/...`) with a Bearer token.

One client serves both credentials: a person's access token for `users/me/...` reads, and the
project's `cloud-platform` token for subscriber management. Errors arrive as `google.rpc.Status`,
`{"error": {"code", "message", "status", "details": [{"@type": ".../google.rpc.ErrorInfo",
"reason": ...}]}}` (FACTS §6), mapped onto the provider error tree:

    401                                   AuthExpired          access tokens live one hour
    403 scope reasons (or no reason)      InsufficientScope    the person did not grant it
    403 project reasons                   UnexpectedResponse   our Cloud project lacks access
    404                                   NotFound
    429 RESOURCE_EXHAUSTED                RateLimited          retry_after = Retry-After or 60 s
    5xx, timeout, connection error        ProviderUnavailable  transient
    a 2xx that is not JSON                ProviderUnavailable  a proxy's page, not Google's
    anything else                         UnexpectedResponse   e.g. 400 ACCOUNT_NOT_LINKED

Google sends no rate-limit headers; a 429 is reported to `observe` as a spent budget so the
budget defers the user's other keys too. Messages name the method, path, status and reason,
never Google's message text or a token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from service.providers import errors, transport
from service.providers.google_health import PROVIDER
from service.providers.ratelimit import RateLimitReading

Observe = Callable[[RateLimitReading], Awaitable[None]]

DEFAULT_API_URL = "https://health.googleapis.com"
# The per-user window is a minute (FACTS §6); a 429 without Retry-After waits it out.
DEFAULT_RETRY_AFTER = 60.0
USER_CALLS_PER_MINUTE = 300

SCOPE_REASONS = frozenset(
    {"MISSING_OAUTH_SCOPE", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "DATA_ACCESS_DENIED"}
)
# Refusals about our Cloud project or credential, not the person: no re-consent fixes them.
PROJECT_REASONS = frozenset(
    {"API_PRIVATE_PREVIEW_ACCESS_DENIED", "DISALLOWED_OAUTH_SCOPES", "RESOURCE_PERMISSION_DENIED"}
)


@dataclass(frozen=True, slots=True)
class GoogleHealthClient:
    http: httpx.AsyncClient
    api_url: str = DEFAULT_API_URL

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: str,
        params: Mapping[str, str | int | bool] | None = None,
        json: Any = None,
        observe: Observe | None = None,
    ) -> Any:
        """The JSON body of `{method} {api_url}{path}`, or the error its answer means."""
        response = await self.send(method, path, token=token, params=params, json=json)
        if observe is not None and response.status_code == 429:
            await observe(RateLimitReading(0, retry_after(response), USER_CALLS_PER_MINUTE))
        raise_for_status(response, f"{method} {path}")
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise errors.ProviderUnavailable(f"{method} {path}: answer is not JSON") from None

    async def send(
        self,
        method: str,
        path: str,
        *,
        token: str,
        params: Mapping[str, str | int | bool] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """The raw answer, for callers that treat some statuses (409, 404) as outcomes."""
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        query = {k: str(v).lower() if isinstance(v, bool) else v for k, v in (params or {}).items()}
        return await transport.send(
            self.http,
            PROVIDER,
            method,
            self.api_url,
            path,
            headers=headers,
            params=query,
            json=json,
        )


def raise_for_status(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if response.is_success:
        return
    reason = error_reason(response)
    message = f"{what}: {status} {reason or ''}".rstrip()
    if status == 401:
        raise errors.AuthExpired(message)
    if status == 403:
        if reason in PROJECT_REASONS:
            raise errors.UnexpectedResponse(message)
        raise errors.InsufficientScope(message)
    if status == 404:
        raise errors.NotFound(message)
    if status == 429:
        raise errors.RateLimited(message, retry_after=retry_after(response))
    if status >= 500:
        raise errors.ProviderUnavailable(message)
    raise errors.UnexpectedResponse(message)


def error_reason(response: httpx.Response) -> str | None:
    """The `ErrorInfo.reason` of a `google.rpc.Status` error, else its `status` name."""
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("reason"), str):
            return str(detail["reason"])
    status = error.get("status")
    return status if isinstance(status, str) and status else None


def retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else DEFAULT_RETRY_AFTER
