"""What every provider hands to the provider-neutral parts of the service."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any


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
    refresh_token: str
    expires_in: int
    scopes: frozenset[str]
    user_id: str


class InvalidNotification(ValueError):
    """The body is not a notification this provider sends; the message says why."""
