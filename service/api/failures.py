"""What a write route answers when the person's connection or Fitbit stands in the way.

A client's request that cannot be carried out as things stand is a 404 or 409 naming the
reason (a person whose provider is not enabled here is such a 409, not the provider's failure);
Fitbit failing is a 502 (a wrong answer) or 503 (down or rate limited: try later),
never a 500, which is kept for our own faults.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from service.api import schemas
from service.api.errors import ApiError
from service.connect import management
from service.connect.flow import AutomaticSubscriptions
from service.connect.vault import ReauthRequired
from service.providers import errors
from service.store.models import UserStatus

log = logging.getLogger(__name__)


@contextmanager
def answered() -> Iterator[None]:
    """Raise the failures of the block as the `ApiError`s that answer them."""
    try:
        yield
    except management.UnknownUser as exc:
        raise ApiError(404, str(exc)) from exc
    except management.NotConnected as exc:
        raise ApiError(409, str(exc), code=_status_code(exc.status)) from exc
    except ReauthRequired as exc:
        detail = "Fitbit refused our refresh token: the person must connect again"
        raise ApiError(409, detail, code=_status_code(UserStatus.REAUTH_REQUIRED)) from exc
    except management.ScopeNotGranted as exc:
        raise ApiError(409, str(exc), code="ScopeNotGranted") from exc
    except management.SubscriptionTaken as exc:
        raise ApiError(409, str(exc), code="SubscriptionConflict") from exc
    except management.NotAtProvider as exc:
        raise ApiError(404, str(exc)) from exc
    except AutomaticSubscriptions as exc:
        raise ApiError(409, str(exc), code="SubscriptionsAutomatic") from exc
    except errors.UnknownProvider as exc:
        # The person's account is at a provider this deployment does not serve (any more):
        # nothing failed at a provider, and asking again will not help until it is enabled.
        raise not_enabled(f"the person's account is at a provider not served: {exc}") from exc
    except errors.ProviderError as exc:
        raise provider_failure(exc) from exc


def not_enabled(detail: str, pointer: str | None = None) -> ApiError:
    """A provider not in `ENABLED_PROVIDERS`: the request is valid, this deployment refuses it."""
    return ApiError(409, detail, pointer=pointer, code="provider_not_enabled")


def provider_failure(exc: errors.ProviderError) -> ApiError:
    log.warning("Fitbit failed a write request: %s: %s", type(exc).__name__, exc)
    if isinstance(exc, errors.RateLimited):
        seconds = max(1, round(exc.retry_after))
        return ApiError(
            503,
            f"Fitbit's rate limit for this person is spent; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
            code="ProviderRateLimited",
        )
    if isinstance(exc, errors.ProviderUnavailable):
        return ApiError(503, "Fitbit is unavailable; try again later", code="ProviderUnavailable")
    if isinstance(exc, errors.InsufficientScope):
        detail = "Fitbit says the person did not grant the scope this needs; connect them again"
        return ApiError(409, detail, code="ScopeNotGranted")
    return ApiError(502, "Fitbit answered in a way we cannot use", code="ProviderError")


def _status_code(status: UserStatus) -> str:
    """`UserDisconnected`, `UserReauthRequired`."""
    return "User" + "".join(part.capitalize() for part in status.value.split("_"))


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers a write route may give."""
    return {
        **schemas.ERROR_RESPONSES,
        **{status: {"model": schemas.ErrorDocument, **_DESCRIBED[status]} for status in statuses},
    }


_DESCRIBED: dict[int, dict[str, str]] = {
    403: {"description": "The token lacks the scope, or the body names its own id"},
    404: {"description": "No such user (or collection)"},
    409: {
        "description": "The user is disconnected or must connect again; the scope was not "
        "granted; Fitbit holds a conflicting subscription; the provider is not enabled here; "
        "or the body's type is wrong. "
        "`code` tells which."
    },
    415: {"description": "The body is not application/vnd.api+json"},
    422: {"description": "A member of the body is wrong; source.pointer names it"},
    502: {"description": "Fitbit answered in a way the service cannot use"},
    503: {"description": "Fitbit is down or rate limited; try again (Retry-After)"},
}
