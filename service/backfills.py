"""Backfills: fetching a person's history, one sync request per (collection, date) of a range.

Shared by the command line and the API (which never import the worker). A backfill is a row
that names the range; its keys are ordinary sync requests, queued at backfill priority, and
its progress is read from them, so the workers never write to it:

- done: keys synced since the backfill began (`created_at`); failed: keys that gave up;
  pending: the rest. Running the same backfill again resumes it: done keys are not fetched.
- Pacing: the rate budget lets backfill spend `calls_per_hour` (Fitbit's 150 per user per
  hour less the reserve kept for live notifications). Keys are queued newest day first, in
  batches of one window's calls: the first now, each next one just after a top of the hour,
  a key every `SPACING_SECONDS` within its batch. arq takes due jobs by score, oldest first,
  so a live notification queued meanwhile waits behind at most a few backfill jobs, and a
  backfill never floods the queue with jobs that would only be deferred to the reset.
- ETA: the calls the pending keys need, divided by the calls per hour backfill may make.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy import ColumnElement, Integer, and_, any_, case, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from service import queue
from service.errors import ServiceError
from service.providers import registry
from service.providers.base import SyncKey
from service.store.models import Backfill, ProviderAccount, SyncRequest, SyncStatus

# Backfills are of Fitbit history until a backfill names its provider.
PROVIDER = "fitbit"
_RULES = registry.descriptor(PROVIDER).rate_rules
MAX_DAYS = 366
PROVIDER_CALLS_PER_HOUR = _RULES.limit  # Fitbit's limit per user and hour
WINDOW_SECONDS = _RULES.window_seconds  # Fitbit's windows end at the top of each hour
SPACING_SECONDS = 0.2  # between the keys of one batch
# Calls per key at the least (an activity list with more than one page costs more).
CALLS = dict(registry.descriptor(PROVIDER).calls)
COLLECTIONS = tuple(sorted(CALLS))


class BackfillError(ServiceError):
    """A backfill that cannot be made; the message says why, `field` names the input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnknownUser(BackfillError):
    """No user with that id, or it has no account at the provider."""


class UnknownBackfill(BackfillError):
    """No backfill with that id."""


@dataclass(frozen=True, slots=True)
class Range:
    from_date: dt.date
    to_date: dt.date
    collections: tuple[str, ...]

    @property
    def days(self) -> int:
        return (self.to_date - self.from_date).days + 1

    def keys(self, owner_id: str) -> list[SyncKey]:
        """Every key of the range, newest day first: recent history is wanted soonest."""
        dates = [self.to_date - dt.timedelta(days=n) for n in range(self.days)]
        return [SyncKey(PROVIDER, owner_id, c, day) for day in dates for c in self.collections]


def parse_range(
    from_date: str | dt.date,
    to_date: str | dt.date,
    collections: Iterable[str] | None = None,
    *,
    today: dt.date | None = None,
) -> Range:
    """Check what a person asked for; `BackfillError` names the first thing wrong."""
    first, last = _date(from_date, "from"), _date(to_date, "to")
    if first > last:
        raise BackfillError(f"from ({first}) is after to ({last})", "from")
    if (last - first).days + 1 > MAX_DAYS:
        raise BackfillError(f"the range spans more than {MAX_DAYS} days", "to")
    # Somewhere on Earth it is already tomorrow; nothing later than that can hold data.
    latest = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    if last > latest:
        raise BackfillError(f"to ({last}) is in the future", "to")
    chosen = tuple(dict.fromkeys(c.strip() for c in collections or COLLECTIONS if c.strip()))
    unknown = [c for c in chosen if c not in CALLS]
    if unknown or not chosen:
        name = unknown[0] if unknown else ""
        raise BackfillError(
            f"unknown collection {name!r}; collections are: {', '.join(COLLECTIONS)}",
            "collections",
        )
    return Range(first, last, tuple(sorted(chosen)))


def _date(value: str | dt.date, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BackfillError(f"{field} must be a date (YYYY-MM-DD), not {value!r}", field) from None


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    owner_id: str


async def find_account(conn: AsyncConnection | AsyncSession, user: str | int) -> Account:
    """The person's provider account: by our user id (an int: only by it), or given text, by
    our id or else the provider's user id."""
    query = select(ProviderAccount.user_id, ProviderAccount.external_id).where(
        ProviderAccount.provider == PROVIDER
    )
    ours = user if isinstance(user, int) else _our_id(user)
    conditions = [] if ours is None else [ProviderAccount.user_id == ours]
    if isinstance(user, str):
        conditions.append(ProviderAccount.external_id == user)
    for condition in conditions:
        row = (await conn.execute(query.where(condition))).first()
        if row is not None:
            return Account(int(row.user_id), str(row.external_id))
    raise UnknownUser(f"no user {user!r} with a {PROVIDER} account", "user")


def _our_id(text: str) -> int | None:
    """Our ids are BIGINTs written in ASCII digits ("²" is a digit to `str.isdigit`, not to
    `int`)."""
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


# -- progress, as SQL over the backfill row (the API's resource reads the same expressions) ----


def _keys_where(*conditions: ColumnElement[bool]) -> list[ColumnElement[bool]]:
    return [
        SyncRequest.provider == Backfill.provider,
        SyncRequest.owner_id == Backfill.owner_id,
        SyncRequest.collection == any_(Backfill.collections),
        SyncRequest.date.between(Backfill.from_date, Backfill.to_date),
        *conditions,
    ]


_is_done = and_(
    SyncRequest.status == SyncStatus.SYNCED, SyncRequest.synced_at >= Backfill.created_at
)
_is_failed = SyncRequest.status == SyncStatus.FAILED
_calls_of_key = case(*((SyncRequest.collection == c, n) for c, n in CALLS.items()), else_=1)

DONE = select(func.count()).where(*_keys_where(_is_done)).scalar_subquery()
FAILED = select(func.count()).where(*_keys_where(_is_failed)).scalar_subquery()
PENDING = Backfill.total_keys - DONE - FAILED
_calls_finished = (
    select(func.coalesce(func.sum(_calls_of_key), 0))
    .where(*_keys_where(_is_done | _is_failed))
    .scalar_subquery()
)
CALLS_LEFT = Backfill.calls - _calls_finished
ETA_SECONDS = case(
    (PENDING <= 0, 0),
    else_=cast(func.ceil(CALLS_LEFT * WINDOW_SECONDS / Backfill.calls_per_hour), Integer),
)


class BackfillStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # finished, but some keys failed


STATUS = case(
    (and_(PENDING <= 0, FAILED == 0), literal(BackfillStatus.DONE.value)),
    (PENDING <= 0, literal(BackfillStatus.FAILED.value)),
    else_=literal(BackfillStatus.RUNNING.value),
)


@dataclass(frozen=True, slots=True)
class Progress:
    id: int
    user_id: int
    owner_id: str
    collections: tuple[str, ...]
    from_date: dt.date
    to_date: dt.date
    total: int
    done: int
    failed: int
    pending: int
    calls_left: int
    calls_per_hour: int
    eta_seconds: int
    status: str  # running, done, or failed (finished, some keys failed)
    created_at: dt.datetime

    @property
    def finished(self) -> bool:
        return self.pending <= 0


_PROGRESS = select(
    Backfill.id,
    Backfill.user_id,
    Backfill.owner_id,
    Backfill.collections,
    Backfill.from_date,
    Backfill.to_date,
    Backfill.total_keys,
    DONE.label("done"),
    FAILED.label("failed"),
    PENDING.label("pending"),
    CALLS_LEFT.label("calls_left"),
    Backfill.calls_per_hour,
    ETA_SECONDS.label("eta_seconds"),
    STATUS.label("status"),
    Backfill.created_at,
)


async def progress(conn: AsyncConnection | AsyncSession, backfill_id: int) -> Progress:
    row = (await conn.execute(_PROGRESS.where(Backfill.id == backfill_id))).first()
    if row is None:
        raise UnknownBackfill(f"no backfill {backfill_id}", "id")
    return _progress(row)


async def listing(conn: AsyncConnection | AsyncSession, *, limit: int = 50) -> list[Progress]:
    rows = await conn.execute(_PROGRESS.order_by(Backfill.id.desc()).limit(limit))
    return [_progress(row) for row in rows]


def _progress(row: Any) -> Progress:
    values = list(row)
    values[3] = tuple(values[3])
    return Progress(*values)


async def mark_finished(session: AsyncSession, backfill_id: int) -> None:
    """Record when a backfill was first seen with nothing pending."""
    await session.execute(
        update(Backfill)
        .where(Backfill.id == backfill_id, Backfill.finished_at.is_(None), PENDING <= 0)
        .values(finished_at=func.now())
    )


# -- starting or resuming ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Started:
    backfill_id: int
    resumed: bool
    schedule: list[tuple[SyncKey, float]]  # keys to queue, seconds from now


async def record(
    session: AsyncSession,
    account: Account,
    wanted: Range,
    *,
    calls_per_hour: int,
    now: float,
) -> Started:
    """Create the backfill (or find the unfinished one for the same range) and make its keys
    pending. Never commits: the caller commits, then `enqueue`s, so every job sees its row."""
    backfill = await _unfinished(session, account, wanted)
    resumed = backfill is not None
    if backfill is None:
        backfill = Backfill(
            user_id=account.user_id,
            provider=PROVIDER,
            owner_id=account.owner_id,
            collections=list(wanted.collections),
            from_date=wanted.from_date,
            to_date=wanted.to_date,
            total_keys=wanted.days * len(wanted.collections),
            calls=wanted.days * sum(CALLS[c] for c in wanted.collections),
            calls_per_hour=calls_per_hour,
        )
        session.add(backfill)
        await session.flush()
        await session.refresh(backfill, ["created_at"])
    keys = await _not_done(session, backfill, wanted.keys(account.owner_id))
    planned = schedule(keys, backfill.calls_per_hour, now)
    await _make_pending(session, backfill.created_at, planned, now)
    return Started(backfill.id, resumed, planned)


async def start(session: AsyncSession, user: str | int, wanted: Range, *, reserve: int) -> Started:
    """`record` a backfill of `wanted` for `user` (as `find_account` takes it), now, at what the
    budget leaves backfill after `reserve` (`RATE_BUDGET_RESERVE`)."""
    account = await find_account(session, user)
    return await record(
        session, account, wanted, calls_per_hour=calls_per_hour(reserve), now=time.time()
    )


async def enqueue(redis: ArqRedis, started: Started) -> int:
    """Queue the keys of a recorded backfill (keys queued already are left as they are)."""
    return await queue.enqueue_backfill(redis, started.schedule)


def calls_per_hour(reserve: int) -> int:
    """What the rate budget lets backfill spend per user and hour."""
    return max(PROVIDER_CALLS_PER_HOUR - reserve, 1)


def schedule(
    keys: Sequence[SyncKey], calls_per_hour: int, now: float
) -> list[tuple[SyncKey, float]]:
    """Seconds from `now` at which each key may run, paced per owner as the module says."""
    spent: dict[str, int] = defaultdict(int)
    to_reset = (now // WINDOW_SECONDS + 1) * WINDOW_SECONDS - now
    planned = []
    for key in keys:
        batch, within = divmod(spent[key.owner_id], calls_per_hour)
        start = 0.0 if batch == 0 else to_reset + (batch - 1) * WINDOW_SECONDS + 1.0
        planned.append((key, start + within * SPACING_SECONDS))
        spent[key.owner_id] += CALLS.get(key.collection, 1)
    return planned


async def _unfinished(session: AsyncSession, account: Account, wanted: Range) -> Backfill | None:
    found = await session.scalar(
        select(Backfill)
        .where(
            Backfill.user_id == account.user_id,
            Backfill.provider == PROVIDER,
            Backfill.collections == list(wanted.collections),
            Backfill.from_date == wanted.from_date,
            Backfill.to_date == wanted.to_date,
            PENDING + FAILED > 0,
        )
        .order_by(Backfill.id.desc())
        .limit(1)
        .with_for_update()
    )
    return found


async def _not_done(
    session: AsyncSession, backfill: Backfill, keys: list[SyncKey]
) -> list[SyncKey]:
    """The keys not synced since the backfill began (those stay as they are)."""
    rows = await session.execute(
        select(SyncRequest.collection, SyncRequest.date).where(
            SyncRequest.provider == backfill.provider,
            SyncRequest.owner_id == backfill.owner_id,
            SyncRequest.collection.in_(backfill.collections),
            SyncRequest.date.between(backfill.from_date, backfill.to_date),
            SyncRequest.status == SyncStatus.SYNCED,
            SyncRequest.synced_at >= backfill.created_at,
        )
    )
    done = {(collection, date) for collection, date in rows}
    return [key for key in keys if (key.collection, key.date) not in done]


async def _make_pending(
    session: AsyncSession, started_at: dt.datetime, planned: list[tuple[SyncKey, float]], now: float
) -> None:
    """Insert or reopen each key. `pending_since` is when its job is due, so the sweeper takes
    it for lost only once it is overdue. A key pending already keeps its job and generation."""
    if not planned:
        return
    values = [
        {
            "provider": key.provider,
            "owner_id": key.owner_id,
            "collection": key.collection,
            "date": key.date,
            "pending_since": dt.datetime.fromtimestamp(now + offset, dt.UTC),
        }
        # The webhook's order, so concurrent upserts of shared keys cannot deadlock.
        for key, offset in sorted(
            planned, key=lambda p: (p[0].owner_id, p[0].collection, p[0].date)
        )
    ]
    statement = insert(SyncRequest).values(values)
    synced_since = and_(
        SyncRequest.status == SyncStatus.SYNCED, SyncRequest.synced_at >= started_at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["provider", "owner_id", "collection", "date"],
            set_={
                "generation": SyncRequest.generation + 1,
                "status": SyncStatus.PENDING,
                "attempts": 0,
                "last_error": None,
                "pending_since": statement.excluded.pending_since,
            },
            where=and_(SyncRequest.status != SyncStatus.PENDING, ~synced_since),
        )
    )
