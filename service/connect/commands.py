"""Commands for operators: `rotate-keys` and `subscriptions reconcile`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from service.connect.reconcile import connected_accounts, reconcile_account
from service.connect.rotation import rotate_keys
from service.connect.runtime import open_connector
from service.errors import ServiceError
from service.providers import registry
from service.settings import Settings


def required(settings: Settings) -> tuple[str, ...]:
    return ("database_url", *registry.required(settings), "token_encryption_keys")


def add_parsers(commands: Any) -> None:
    rotate = commands.add_parser(
        "rotate-keys", help="re-encrypt stored tokens under the first TOKEN_ENCRYPTION_KEYS key"
    )
    rotate.set_defaults(command=_rotate)
    subscriptions = commands.add_parser("subscriptions", help="manage provider subscriptions")
    actions = subscriptions.add_subparsers(title="actions", required=True, dest="action")
    actions.add_parser("reconcile", help="repair drift between ours and Fitbit's subscriptions")
    subscriptions.set_defaults(command=_reconcile)


def _rotate(args: argparse.Namespace, settings: Settings) -> int:
    settings.require(*required(settings))

    async def run() -> int:
        async with open_connector(settings) as connector:
            return await rotate_keys(connector.sessions, connector.cipher)

    print(f"re-encrypted {asyncio.run(run())} stored secrets under the first key")
    return 0


def _reconcile(args: argparse.Namespace, settings: Settings) -> int:
    settings.require(*required(settings))
    return asyncio.run(_reconcile_all(settings))


async def _reconcile_all(settings: Settings) -> int:
    failed = 0
    async with open_connector(settings) as connector:
        accounts = [
            account
            for provider in connector.providers
            if provider.subscriptions is not None
            for account in await connected_accounts(connector, provider.name)
        ]
        for done, account in enumerate(accounts, start=1):
            try:
                drift = await reconcile_account(connector, account)
            except ServiceError as exc:
                failed += 1
                print(f"account {account.id}: not reconciled: {exc}", file=sys.stderr)
                continue
            note = (
                f" subscribed {drift.subscribed} removed {drift.removed}" if drift.repaired else ""
            )
            print(f"[{done}/{len(accounts)}] account {account.id}: ok{note}")
    return 1 if failed else 0
