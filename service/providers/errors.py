"""What can go wrong when talking to a provider, independent of which provider it is.

    ServiceError
    └── ProviderError                 anything the provider answered that we cannot use
        ├── ProviderUnavailable       5xx, timeouts, connection errors: transient, retry later
        ├── RateLimited               429 or our budget spent: retry after `retry_after` seconds
        ├── AuthExpired               401 expired token: refresh once, then retry
        ├── InvalidToken              401 other than expiry: the token is not ours any more
        ├── InsufficientScope         403: the person did not grant this scope
        ├── NotFound                  404
        ├── RefreshConflict           409 on refresh: another refresh is running; re-read, retry
        ├── InvalidGrant              400 invalid_grant: the refresh token is spent or revoked
        ├── SubscriptionConflict      another subscription covers the stream, or the id is taken
        ├── UnknownProvider           a row names a provider this deployment does not serve
        └── UnexpectedResponse        an answer of a shape we do not know, or an unexpected 4xx

Jobs retry only `ProviderUnavailable`, `RateLimited` and `RefreshConflict`; the others are
permanent for the request at hand and are recorded with their reason.
"""

from __future__ import annotations

from service.errors import ServiceError


class ProviderError(ServiceError):
    """The provider answered something we cannot use."""


class ProviderUnavailable(ProviderError):
    """Transient: 5xx, timeout or connection failure."""


class RateLimited(ProviderError):
    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthExpired(ProviderError):
    """The access token expired; refresh it and try once more."""


class InvalidToken(ProviderError):
    """The access token is not valid (revoked, or never was)."""


class InsufficientScope(ProviderError):
    """The person did not grant the scope this call needs."""


class NotFound(ProviderError):
    pass


class RefreshConflict(ProviderError):
    """Another refresh of the same token is in progress at the provider."""


class InvalidGrant(ProviderError):
    """The refresh token (or authorization code) is spent, expired or revoked."""


class UnexpectedResponse(ProviderError):
    """The answer does not have the shape we know; retrying would get the same answer."""


class SubscriptionConflict(ProviderError):
    """Another subscription covers this stream, or this id is used for another stream."""


class UnknownProvider(ProviderError):
    """A row or a request names a provider that is not enabled here (`ENABLED_PROVIDERS`)."""
