"""Health data rows: replace what a provider said about one user's (collection, date).

Idempotent by construction: rows are upserted on their table's natural key (the table's one
unique constraint), and the user's rows of that kind and date that the provider no longer
returns are deleted, so a log deleted at the provider disappears here and running a replace
twice leaves the same rows. Like every use case it never commits: the job owns the transaction,
so a replace is all or nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Delete, Table, UniqueConstraint, bindparam, delete, func, tuple_
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.providers import rows
from service.providers.rows import DayData
from service.store import models

Values = dict[str, Any]

MODELS: dict[type[rows.Row], type[models.Base]] = {
    rows.ActivitySummary: models.ActivitySummary,
    rows.ActivityLog: models.ActivityLog,
    rows.SleepLog: models.SleepLog,
    rows.WeightLog: models.WeightLog,
    rows.BodyFatLog: models.BodyFatLog,
    rows.FoodLog: models.FoodLog,
    rows.NutritionSummary: models.NutritionSummary,
    rows.WaterLog: models.WaterLog,
    rows.WaterSummary: models.WaterSummary,
}
OWNER = ("user_id", "provider")


@dataclass(frozen=True, slots=True)
class Replaced:
    upserted: int = 0
    deleted: int = 0

    def __add__(self, other: Replaced) -> Replaced:
        return Replaced(self.upserted + other.upserted, self.deleted + other.deleted)


async def replace_day(
    session: AsyncSession,
    day: DayData,
    *,
    user_id: int,
    provider: str,
    utc_offset_ms: int | None,
    supersedes: str | None = None,
) -> Replaced:
    """Make the user's rows of every kind in `day` for `day.date` exactly those in `day`.

    `supersedes`: the provider this one replaces (Google Health for Fitbit). The same person's
    rows of that provider for the same kind and date describe the same day (the new provider
    serves the old one's history too), so they go: one day's activity or sleep never shows
    twice after a migration.
    """
    owner = {"user_id": user_id, "provider": provider, "utc_offset_ms": utc_offset_ms}
    done = Replaced()
    for kind, found in day.tables.items():
        table = table_for(kind)
        values = _unique(table, [{**_values(row), **owner} for row in found])
        upserted = await _upsert(session, table, values)
        deleted = await _delete_others(session, table, owner, day, values)
        if supersedes is not None:
            older = {"user_id": user_id, "provider": supersedes}
            deleted += await _delete_others(session, table, older, day, [])
        done += Replaced(upserted, deleted)
    return done


def natural_key(table: Table) -> tuple[str, ...]:
    """The columns of the table's one unique constraint."""
    (unique,) = (c for c in table.constraints if isinstance(c, UniqueConstraint))
    return tuple(column.name for column in unique.columns)


def table_for(kind: type[rows.Row]) -> Table:
    """The table that holds rows of this kind."""
    return models.Base.metadata.tables[MODELS[kind].__tablename__]


def _values(row: rows.Row) -> Values:
    # Not dataclasses.asdict: it deep-copies every raw document.
    return {field.name: getattr(row, field.name) for field in fields(row)}


def _unique(table: Table, values: list[Values]) -> list[Values]:
    """One row per natural key, the last one winning: PostgreSQL refuses to upsert one twice."""
    key = natural_key(table)
    return list({tuple(v[c] for c in key): v for v in values}.values())


async def _upsert(session: AsyncSession, table: Table, values: list[Values]) -> int:
    """Insert or update every row. Executed as one statement over many parameter sets, so
    SQLAlchemy compiles it once per table and column set rather than once per row count."""
    if not values:
        return 0
    await session.execute(_upsert_statement(table, tuple(values[0])), values)
    return len(values)  # ON CONFLICT DO UPDATE writes every row: inserted or updated


@functools.cache
def _upsert_statement(table: Table, columns: tuple[str, ...]) -> Insert:
    statement = insert(table)
    key = natural_key(table)
    changes = {name: statement.excluded[name] for name in columns if name not in key}
    return statement.on_conflict_do_update(
        index_elements=key, set_={**changes, "synced_at": func.now()}
    )


async def _delete_others(
    session: AsyncSession, table: Table, owner: Values, day: DayData, kept: Sequence[Values]
) -> int:
    """Delete the owner's rows of `day.date` whose natural key is not among `kept`."""
    key = _kept_key(table)
    params: Values = {"owner_user_id": owner["user_id"], "owner_provider": owner["provider"]}
    params["day"] = day.date
    if kept:
        params["kept"] = [tuple(v[c] for c in key) if len(key) > 1 else v[key[0]] for v in kept]
    result = await session.execute(_delete_statement(table, bool(kept)), params)
    return int(getattr(result, "rowcount", 0))


def _kept_key(table: Table) -> tuple[str, ...]:
    return tuple(name for name in natural_key(table) if name not in OWNER)


@functools.cache
def _delete_statement(table: Table, keeping: bool) -> Delete:
    """Built once per table: the kept keys are one expanding parameter, so a day with many
    logs costs no expression objects and hits SQLAlchemy's compiled cache."""
    statement = delete(table).where(
        table.c.user_id == bindparam("owner_user_id"),
        table.c.provider == bindparam("owner_provider"),
        table.c.date == bindparam("day"),
    )
    if keeping:
        columns = [table.c[name] for name in _kept_key(table)]
        compared = tuple_(*columns) if len(columns) > 1 else columns[0]
        statement = statement.where(compared.not_in(bindparam("kept", expanding=True)))
    return statement


async def purge_user(session: AsyncSession, user_id: int) -> int:
    """Delete every health row of the user (all providers); return how many went."""
    purged = 0
    for kind in MODELS:
        table = table_for(kind)
        result = await session.execute(delete(table).where(table.c.user_id == user_id))
        purged += int(getattr(result, "rowcount", 0) or 0)
    return purged
