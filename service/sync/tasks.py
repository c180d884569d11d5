"""The sync task: bring one (provider, owner, collection, date) up to date, idempotently.

    read generation G ─▶ valid access token ─▶ spend the calls from the user's budget
    ─▶ fetch ─▶ replace the day's rows ─▶ synced_generation = G ─▶ G moved meanwhile? again

Only transient trouble is retried: a spent budget or a 429 defers the job to the reset (plus
jitter); 5xx and timeouts back off exponentially up to a limit, then the request is `failed`
with its last error. An expired token is refreshed once. Everything else is recorded as a
failure with its reason; a person who must re-consent or has left is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from typing import Any

from arq import Retry
from sqlalchemy.exc import SQLAlchemyError

from service import queue
from service.connect.vault import ReauthRequired
from service.providers import errors
from service.providers.base import ACCOUNT_COLLECTIONS, SyncKey, UnknownCollection
from service.providers.rows import DayData
from service.settings import Settings
from service.store import data, sync_state
from service.store.sync_state import SyncTarget
from service.sync import telemetry
from service.sync.budget import Priority
from service.sync.runtime import SyncDeps

log = logging.getLogger(__name__)

ACCOUNT_EVENTS = frozenset(ACCOUNT_COLLECTIONS.values())


async def sync(
    ctx: dict[str, Any],
    provider: str,
    owner_id: str,
    collection: str,
    date: str,
    priority: str = Priority.LIVE.value,
) -> str:
    """arq entry point; the job id is the key, so one key never syncs twice at once."""
    deps = SyncDeps.of(ctx)
    key = SyncKey(provider, owner_id, collection, dt.date.fromisoformat(date))
    if collection in ACCOUNT_EVENTS:
        return await deps.account_event(key)
    return await sync_key(deps, key, Priority(priority))


async def requeue_if_changed(ctx: dict[str, Any]) -> None:
    """arq's `after_job_end`: a notification that landed after the sync committed but before
    arq deleted the job could not queue a job of its own (the key's job still existed), so
    queue it now; a key whose job is still queued (deferred, retried) is left alone.

    Best effort: arq does not catch what this hook raises, so an unreachable database or Redis
    here would end the whole worker process and strand its other running jobs until
    `job_timeout` + 10 s. A key left pending is queued again by the sweeper."""
    key = SyncKey.from_job_id(str(ctx.get("job_id", "")))
    if key is None or ctx.get(telemetry.OUTCOME) == "retry":  # still queued: nothing to do
        return
    deps = SyncDeps.of(ctx)
    try:
        async with deps.sessions() as session:
            pending = await sync_state.is_pending(session, key)
        if pending:
            await queue.enqueue_sync(ctx["redis"], key)
    except (SQLAlchemyError, OSError) as exc:  # OSError: QueueUnavailable, refused connections
        log.warning("re-queue check of %s failed, left to the sweeper: %r", key.job_id(), exc)


async def sync_key(deps: SyncDeps, key: SyncKey, priority: Priority) -> str:
    async with deps.sessions() as session:
        target = await sync_state.load(session, key)
    if target is None or target.up_to_date:
        return "up to date"
    if priority is Priority.LIVE and (wait := debounce_left(deps.settings, target)) > 0:
        raise Retry(defer=wait)
    if not target.syncable or target.account_id is None or target.user_id is None:
        return await _fail(deps, target, "the provider account is not connected")
    try:
        day = await _fetch(deps, key, target, priority)
    except errors.RateLimited as exc:
        raise Retry(defer=deps.budget.policy.defer(exc.retry_after)) from None
    except errors.ProviderUnavailable as exc:
        return await _transient(deps, target, str(exc))
    except ReauthRequired:
        return await _fail(deps, target, "the person must connect again (reauth_required)")
    except (errors.ProviderError, UnknownCollection) as exc:
        return await _fail(deps, target, f"{type(exc).__name__}: {exc}")
    return await _store(deps, key, target, day)


async def _fetch(deps: SyncDeps, key: SyncKey, target: SyncTarget, priority: Priority) -> DayData:
    account_id = target.account_id or 0
    fetcher = deps.provider(key.provider).fetcher
    meter = deps.budget.meter(key.provider, key.owner_id, priority)
    token = await deps.vault.access_token(account_id)
    try:
        return await fetcher.fetch(key, token=token, meter=meter)
    except errors.AuthExpired:
        token = await deps.vault.refresh(account_id, failed_token=token)
        return await fetcher.fetch(key, token=token, meter=meter)


async def _store(deps: SyncDeps, key: SyncKey, target: SyncTarget, day: DayData) -> str:
    async with deps.sessions.begin() as session:
        # The request's row first: its lock orders two overlapping syncs of the key (a job run
        # again after Redis lost it), and one whose generation is already stored must not
        # replace the newer rows with what it fetched earlier.
        current = await sync_state.mark_synced(session, target.request_id, target.generation)
        if current is None:
            return "superseded"
        await data.replace_day(
            session,
            day,
            user_id=target.user_id or 0,
            provider=key.provider,
            utc_offset_ms=target.utc_offset_ms,
            supersedes=deps.provider(key.provider).descriptor.legacy_provider,
        )
    if current > target.generation:
        # Changed while we fetched: fetch once more under the same job id, after a debounce
        # counted from now, so the changes of a storm that outlasts a fetch share one more.
        raise Retry(defer=deps.settings.sync_debounce_seconds)
    return "synced"


def debounce_left(settings: Settings, target: SyncTarget) -> float:
    """Seconds until the key has been pending for the debounce. Counted from the first
    notification, not the last, so no change waits longer than the debounce (plus the fetch),
    however often the key is notified; every notification within the window costs one fetch."""
    return max(settings.sync_debounce_seconds - target.pending_seconds, 0.0)


async def _transient(deps: SyncDeps, target: SyncTarget, error: str) -> str:
    async with deps.sessions.begin() as session:
        attempts = await sync_state.record_attempt(session, target.request_id, error)
        if attempts >= deps.settings.sync_max_attempts:
            await sync_state.mark_failed(session, target.request_id, error)
            return "failed"
    raise Retry(defer=backoff(attempts, deps.settings.sync_backoff_seconds))


async def _fail(deps: SyncDeps, target: SyncTarget, error: str) -> str:
    async with deps.sessions.begin() as session:
        await sync_state.mark_failed(session, target.request_id, error)
    log.info("sync request %s failed: %s", target.request_id, error)
    return "failed"


def backoff(attempt: int, base: float, rng: Any = random.random) -> float:
    """Exponential with full jitter, capped at ten minutes."""
    ceiling = min(base * 2 ** max(attempt - 1, 0), 600.0)
    return float(ceiling * (0.5 + rng() / 2))
