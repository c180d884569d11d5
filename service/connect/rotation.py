"""Re-encrypting every stored secret under the first of `TOKEN_ENCRYPTION_KEYS`.

Rows are rotated in small batches, each its own transaction with the rows locked, so a token
refresh running meanwhile either waits for the batch or has already written under the new key.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service.connect.cipher import TokenCipher
from service.store.models import ConnectState, ProviderAccount

BATCH = 500


async def rotate_keys(sessions: async_sessionmaker[AsyncSession], cipher: TokenCipher) -> int:
    """Return how many secrets were re-encrypted."""
    rotated = await _rotate_accounts(sessions, cipher)
    async with sessions.begin() as session:
        states = await session.scalars(select(ConnectState).with_for_update())
        for state in states:
            state.code_verifier = cipher.rotate(state.code_verifier)
            rotated += 1
    return rotated


async def _rotate_accounts(sessions: async_sessionmaker[AsyncSession], cipher: TokenCipher) -> int:
    rotated, after = 0, 0
    while True:
        async with sessions.begin() as session:
            batch = list(
                await session.scalars(
                    select(ProviderAccount)
                    .where(ProviderAccount.id > after)
                    .order_by(ProviderAccount.id)
                    .limit(BATCH)
                    .with_for_update()
                )
            )
            for account in batch:
                rotated += _rotate_account(account, cipher)
        if not batch:
            return rotated
        after = batch[-1].id


def _rotate_account(account: ProviderAccount, cipher: TokenCipher) -> int:
    count = 0
    if account.access_token:
        account.access_token = cipher.rotate(account.access_token)
        count += 1
    if account.refresh_token:
        account.refresh_token = cipher.rotate(account.refresh_token)
        count += 1
    return count
