"""What every Google API call goes through: faults, the bearer token (a user's, or the
project's cloud-platform token), the per-user rate limit, and the scope the method needs.
Failures answer in Google's `google.rpc.Status` shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.emulator.errors import FitbitError
from service.emulator.google.errors import GoogleError
from service.emulator.google.state import GoogleHealth
from service.emulator.google.tokens import AccessToken
from service.emulator.google.users import GoogleUser

# Request-state key the Google edge reads to count calls per user.
CALLER = "google_health_user_id"
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)
WWW_AUTHENTICATE = 'Bearer realm="https://accounts.google.com/", error="invalid_token"'


def get_google(request: Request) -> GoogleHealth:
    google = request.app.state.google
    if not isinstance(google, GoogleHealth):
        raise TypeError("app.state.google is not a GoogleHealth")
    return google


GoogleDep = Annotated[GoogleHealth, Depends(get_google)]


@dataclass(frozen=True)
class Caller:
    user: GoogleUser
    token: AccessToken


async def faults(request: Request, google: GoogleHealth) -> None:
    """The shared fault plan, answered in Google's shape."""
    try:
        await google.fitbit.faults.apply(request, google.counters)
    except FitbitError as exc:
        message = (
            "The service is currently unavailable." if exc.status != 504 else "Deadline exceeded."
        )
        raise GoogleError(exc.status, message) from exc


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise GoogleError(
            401,
            UNAUTHENTICATED,
            reason="CREDENTIALS_MISSING",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


async def user_call(request: Request, google: GoogleHealth, scopes: frozenset[str]) -> Caller:
    """A call with a user's token that needs any one of `scopes`."""
    await faults(request, google)
    value = bearer(request)
    token = google.tokens.access(value)
    if token is None or token.revoked:
        raise _unauthenticated(
            "ACCESS_TOKEN_TYPE_UNSUPPORTED" if value == google.config.cloud_token else None
        )
    if token.expires_at <= google.now():
        raise _unauthenticated("ACCESS_TOKEN_EXPIRED")
    user = google.users.ensure(token.user_id)
    request.scope.setdefault("state", {})[CALLER] = user.health_user_id
    if not google.spend(user.health_user_id):
        google.counters.rate_limited_by_user[user.health_user_id] += 1
        message = (
            "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' "
            "of service 'health.googleapis.com'."
        )
        raise GoogleError(429, message, reason="RATE_LIMIT_EXCEEDED")
    if not scopes & token.scopes:
        raise GoogleError(
            403,
            "Request had insufficient authentication scopes.",
            reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        )
    return Caller(user, token)


async def project_call(request: Request, google: GoogleHealth, project: str) -> None:
    """A call with the project's cloud-platform credential, naming its project number."""
    await faults(request, google)
    value = bearer(request)
    if value != google.config.cloud_token:
        if google.tokens.access(value) is not None:
            raise GoogleError(
                403,
                "Request had insufficient authentication scopes.",
                reason="ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            )
        raise _unauthenticated(None)
    if project != google.config.project_number:
        raise GoogleError(
            403,
            f"Permission denied on resource project {project} (use the project number).",
            reason="RESOURCE_PERMISSION_DENIED",
        )


def _unauthenticated(reason: str | None) -> GoogleError:
    return GoogleError(
        401,
        UNAUTHENTICATED,
        reason=reason or "ACCESS_TOKEN_INVALID",
        headers={"WWW-Authenticate": WWW_AUTHENTICATE},
    )
