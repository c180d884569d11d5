"""`fitbit-subscriber clients create | list | revoke`: managing the internal API's clients."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from service.api import clients, scopes
from service.settings import Settings
from service.store.db import create_engine

Action = Callable[[AsyncConnection, argparse.Namespace], Awaitable[int]]


def run(args: argparse.Namespace, settings: Settings) -> int:
    action = _ACTIONS[args.action]
    return asyncio.run(_in_transaction(settings, action, args))


async def _in_transaction(settings: Settings, action: Action, args: argparse.Namespace) -> int:
    engine = create_engine(settings, pool_size=1)
    try:
        async with engine.begin() as conn:
            return await action(conn, args)
    finally:
        await engine.dispose()


async def _create(conn: AsyncConnection, args: argparse.Namespace) -> int:
    try:
        granted = scopes.parse(args.scope)
    except scopes.UnknownScope as exc:
        print(f"fitbit-subscriber: {exc}", file=sys.stderr)
        return 2
    new = await clients.create(conn, args.name, granted)
    print(f"client_id: {new.record.client_id}")
    print(f"client_secret: {new.secret}")
    print(f"scope: {scopes.render(new.record.scopes)}")
    print("The secret is shown only now: store it (it is kept only as a hash).", file=sys.stderr)
    return 0


async def _list(conn: AsyncConnection, args: argparse.Namespace) -> int:
    print("client_id\tname\tscope\tcreated_at\trevoked_at")
    for client in await clients.list_all(conn):
        revoked = client.revoked_at.isoformat() if client.revoked_at else "-"
        print(
            f"{client.client_id}\t{client.name}\t{scopes.render(client.scopes)}\t"
            f"{client.created_at.isoformat()}\t{revoked}"
        )
    return 0


async def _revoke(conn: AsyncConnection, args: argparse.Namespace) -> int:
    client = await clients.revoke(conn, args.client_id)
    if client is None:
        print(f"fitbit-subscriber: no client {args.client_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {client.client_id} ({client.name})")
    return 0


_ACTIONS: dict[str, Action] = {"create": _create, "list": _list, "revoke": _revoke}
