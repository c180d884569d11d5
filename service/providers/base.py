"""The provider boundary: the neutral types every provider hands to the rest of the service, and
what a provider supplies (`Descriptor`, static; `Provider`, live) — the only way `sync/`,
`connect/`, `webhook/`, `api/` and `app.py` reach provider behaviour (through `registry`).

    Descriptor   name (the `provider` column), route prefix, collections and their scopes,
                 calls per collection, rate rules, required settings, webhook documentation,
                 and `build`, which makes the live Provider once per process
    Provider     webhook        verification challenge, signature check, notification parsing
                 accounts       consent URL, code exchange, refresh, revoke, identity
                 subscriptions  per-user subscribe / unsubscribe / list, or None when the
                                provider subscribes every consenting user itself
                 fetcher        one sync key into `DayData` rows, spending from a `Meter`
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from service.providers.ratelimit import Meter
    from service.providers.rows import DayData
    from service.settings import Settings


class ChangeKind(enum.Enum):
    DATA = "data"  # a collection of the user changed on a date: fetch it
    ACCOUNT_REVOKED = "account_revoked"  # the user withdrew consent: tokens are dead
    ACCOUNT_DELETED = "account_deleted"  # the provider account is gone
    UNKNOWN = "unknown"  # recorded for the audit log, never synced


# Account events travel as sync keys of these pseudo-collections, so they are recorded,
# coalesced, retried and swept exactly like data changes.
ACCOUNT_COLLECTIONS = {
    ChangeKind.ACCOUNT_REVOKED: "account_revoked",
    ChangeKind.ACCOUNT_DELETED: "account_deleted",
}

# A sync job's id is its key: "sync:<provider>:<owner>:<collection>:<date>".
JOB_PREFIX = "sync"


@dataclass(frozen=True, slots=True)
class SyncKey:
    """The unit of coalescing: everything one fetch brings up to date."""

    provider: str
    owner_id: str
    collection: str
    date: dt.date

    def job_id(self) -> str:
        day = self.date.isoformat()
        return f"{JOB_PREFIX}:{self.provider}:{self.owner_id}:{self.collection}:{day}"

    @classmethod
    def from_job_id(cls, job_id: str) -> SyncKey | None:
        """The key a sync job's id names; None for any other job (a cron's, say)."""
        prefix, _, rest = job_id.partition(":")
        provider, _, rest = rest.partition(":")
        parts = rest.rsplit(":", 2)
        if prefix != JOB_PREFIX or len(parts) != 3:
            return None
        owner_id, collection, day = parts
        try:
            return cls(provider, owner_id, collection, dt.date.fromisoformat(day))
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ReceivedChange:
    """One item of a notification, parsed and validated, with the raw item kept for audit."""

    provider: str
    kind: ChangeKind
    owner_id: str
    collection: str
    date: dt.date | None
    owner_type: str | None
    subscription_id: str | None
    raw: dict[str, Any]

    @property
    def sync_key(self) -> SyncKey | None:
        if self.kind is ChangeKind.UNKNOWN or self.date is None:
            return None
        collection = ACCOUNT_COLLECTIONS.get(self.kind, self.collection)
        return SyncKey(self.provider, self.owner_id, collection, self.date)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a provider's token endpoint gave us for one account."""

    access_token: str
    # None: the answer carried none, and the stored one stays valid (Google does not rotate
    # refresh tokens); the vault merges, never overwriting a refresh token with nothing.
    refresh_token: str | None
    expires_in: int
    scopes: frozenset[str]
    # The provider's id of the account when the token answer names it (Fitbit); otherwise
    # `Accounts.identify` asks for it (Google's `users/me/identity`).
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    timezone: str | None
    utc_offset_ms: int | None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a fresh grant belongs to at the provider."""

    user_id: str  # the account's id there: `provider_account.external_id`, a key's owner
    legacy_user_id: str | None = None  # Google: the same person's Fitbit user id
    profile: Profile | None = None  # None: not read (scope not granted, or the call failed)


class InvalidNotification(ValueError):
    """The body is not a notification this provider sends; the message says why."""


class UnknownCollection(ValueError):
    """The collection has no data to fetch (an account event, or one the provider added)."""


class Subscribed(enum.Enum):
    CREATED = "created"
    ALREADY = "already_subscribed"


@dataclass(frozen=True, slots=True)
class RateRules:
    """A provider's per-user call budget: `limit` calls per window, the windows ending at
    multiples of `window_seconds` (Fitbit: 150 an hour; Google: 300 a minute). The budget
    learns the real figures from each answer's `RateLimitReading` where the provider gives one,
    and treats a 429 as a spent window either way."""

    limit: int
    window_seconds: float


# -- what a provider supplies ------------------------------------------------------------------


class Webhook(Protocol):
    """The provider's subscriber endpoint, `POST {route_prefix}/webhook`.

    Everything is checked on raw bytes and headers; nothing here may do I/O but `authenticate`
    (a keyset may need fetching), since the provider waits for our answer.
    """

    def verify_query(self, query: Sequence[tuple[str, str]]) -> int:
        """The status answering a `GET` verification challenge (Descriptor.verify_by_get)."""
        ...

    def verify_post(self, headers: Mapping[str, str], body: bytes) -> int | None:
        """The status answering a POST that is a verification challenge; None for a push."""
        ...

    async def authenticate(self, headers: Mapping[str, str], body: bytes) -> str | None:
        """None when the push is the provider's, else what is wrong (a short metric label)."""
        ...

    def parse(self, body: bytes) -> list[ReceivedChange]:
        """The push's items; raises `InvalidNotification`."""
        ...


class Accounts(Protocol):
    """OAuth 2.0 with the provider, and who a grant belongs to."""

    def default_scopes(self) -> list[str]: ...

    def code_verifier(self) -> str:
        """A fresh PKCE verifier (RFC 7636)."""
        ...

    def consent_url(self, *, state: str, scopes: list[str], code_verifier: str) -> str: ...

    async def exchange_code(self, code: str, code_verifier: str) -> TokenGrant: ...

    async def refresh(self, refresh_token: str) -> TokenGrant: ...

    async def revoke(self, token: str) -> None: ...

    async def identify(self, grant: TokenGrant) -> Identity:
        """The account behind a fresh grant; a profile it could not read is left None."""
        ...


class Subscriptions(Protocol):
    """Per-user subscriptions (Fitbit; Google's MANUAL policy), made with the user's token."""

    def subscription_id(self, user_id: int, collection: str) -> str: ...

    async def subscribe(self, token: str, collection: str, sub_id: str) -> Subscribed:
        """Raises `errors.SubscriptionConflict` when the provider refuses the id for it."""
        ...

    async def unsubscribe(self, token: str, collection: str, sub_id: str) -> bool:
        """True when the provider removed it, False when it had none by that id."""
        ...

    async def list(self, token: str) -> list[tuple[str, str]]:
        """Every (collection, subscription id) the provider holds for the user."""
        ...


class Fetcher(Protocol):
    async def fetch(self, key: SyncKey, *, token: str, meter: Meter) -> DayData:
        """Everything the provider has for the key, each call spent from `meter` first.
        Raises `UnknownCollection` and the `service.providers.errors` tree."""
        ...


@dataclass(frozen=True, slots=True)
class Provider:
    """One provider's live parts, built once per process by `Descriptor.build`."""

    descriptor: Descriptor
    webhook: Webhook
    accounts: Accounts
    subscriptions: Subscriptions | None  # None: the provider subscribes every consenting user
    fetcher: Fetcher

    @property
    def name(self) -> str:
        return self.descriptor.name


@dataclass(frozen=True, slots=True)
class Descriptor:
    """What is known of a provider without settings or connections: enough to mount its routes,
    validate requests, pace backfills and name the settings it needs."""

    name: str  # the `provider` column of every row, and a sync key's first part
    title: str  # for people: "Fitbit"
    route_prefix: str  # "/fitbit": `{prefix}/webhook` and `{prefix}/callback` are mounted
    verify_by_get: bool  # verification comes as GET (Fitbit) rather than POST (Google)
    refused_status: int  # the answer to a missing or wrong signature (Fitbit 404, Google 401)
    webhook_openapi: Mapping[str, Any]  # the push as documented: headers and body schema
    scopes: frozenset[str]  # every scope the provider defines: asking for another fails there
    collections: Mapping[str, str]  # collection -> the scope that lets us read it
    calls: Mapping[str, int]  # collection -> the calls one key costs at the least
    rate_rules: RateRules
    credentials: tuple[str, ...]  # settings every role needs to talk to the provider
    serve_settings: tuple[str, ...]  # what `serve` needs (credentials, webhook, callback)
    build: Callable[[Settings, httpx.AsyncClient], Provider] = field(repr=False)
    # The provider this one succeeds (Google Health: Fitbit): an identity's `legacy_user_id`
    # is an account there, and this provider's rows replace that one's for the same day.
    legacy_provider: str | None = None

    def granted(self, scopes: Sequence[str]) -> list[str]:
        """The collections the granted scopes let us read."""
        return [c for c, scope in self.collections.items() if scope in scopes]
