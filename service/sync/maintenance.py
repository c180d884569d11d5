"""Daily upkeep of connections: subscriptions reconciled within each person's rate budget."""

from __future__ import annotations

import logging
from typing import Any

from service.connect.reconcile import connected_accounts, reconcile_account
from service.errors import ServiceError
from service.providers import errors
from service.sync.budget import Priority
from service.sync.runtime import SyncDeps

log = logging.getLogger(__name__)

# Listing costs one call; repairs cost one each (at most a few a day).
RECONCILE_CALLS = 1


async def reconcile_subscriptions(ctx: dict[str, Any]) -> str:
    """Repair drift for every connected person; skip whoever has no budget left this hour."""
    deps = SyncDeps.of(ctx)
    repaired = skipped = failed = 0
    accounts = [
        account
        for provider in deps.connector.providers
        if provider.subscriptions is not None  # none to drift where the provider subscribes all
        for account in await connected_accounts(deps.connector, provider.name)
    ]
    for account in accounts:
        try:
            await deps.budget.spend(
                account.provider, account.external_id, RECONCILE_CALLS, priority=Priority.BACKFILL
            )
            drift = await reconcile_account(deps.connector, account)
        except errors.RateLimited:
            skipped += 1
            continue
        except ServiceError as exc:
            failed += 1
            log.warning("account %s not reconciled: %s", account.id, type(exc).__name__)
            continue
        repaired += drift.repaired
    return f"repaired {repaired}, skipped {skipped} (no budget), failed {failed}"
