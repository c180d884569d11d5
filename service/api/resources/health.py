"""What every health data resource shares: one per table of synced rows (`service.store.data`).

Every row is a person's (`user`), from a provider, for a local `date`, with the person's UTC
offset when it was synced and the provider's answer as given (`raw`). `data_resource` adds
those to a table's own attributes, with the filters and the relationship every data resource
has, so each declaration lists only what its table adds.

Why `raw` is an attribute: the typed attributes are what we understood of an entry; `raw`
keeps the rest (fields Fitbit adds later, per-minute levels) readable without a new release.
It can be large (a night's sleep stages), and JSON:API sparse fieldsets are not supported, so
clients that page through much data should keep pages small.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Interval,
    Text,
    cast,
    exists,
    func,
    inspect,
    literal_column,
)

from service.api import params
from service.api.resource import Attribute, Expression, Filter, Relationship, Resource
from service.store.models import DayRowMixin, ProviderAccount

_MILLISECOND = literal_column("interval '1 millisecond'", Interval)


def data_resource(
    model: type[DayRowMixin],
    type_: str,
    description: str,
    attributes: Mapping[str, Attribute],
    *,
    sortable: tuple[str, ...] = (),
    filters: tuple[Filter, ...] = (),
) -> Resource:
    """The resource of a health data table: `attributes` are the table's own."""
    return Resource(
        type=type_,
        source=inspect(model).local_table,
        id=model.id,
        description=description,
        attributes={
            "provider": Attribute(model.provider, "e.g. fitbit"),
            "date": Attribute(model.date, "The day, in the person's local time."),
            **attributes,
            "utc_offset_ms": Attribute(
                model.utc_offset_ms,
                "The person's offset from UTC when synced, in milliseconds: "
                "UTC = local time - offset.",
            ),
            "raw": Attribute(
                model.raw, "The entry exactly as the provider answered it.", dict[str, Any]
            ),
            "synced_at": Attribute(model.synced_at, "When it was last fetched."),
        },
        sortable=(params.ID, "date", *sortable),
        default_sort="date",
        filters=(
            Filter.on("user", model.user_id, params.integer, description="Our user id."),
            owner_filter(model),
            Filter.on("provider", model.provider, description="The provider."),
            Filter.on("date", model.date, params.date, ranged=True, description="The local day."),
            *filters,
        ),
        relationships=(Relationship("user", "users", model.user_id, description="The person."),),
    )


def owner_filter(model: type[DayRowMixin]) -> Filter:
    """`filter[owner]=<provider user id>,...`: rows of the people holding those accounts."""

    def where(op: str, values: tuple[Any, ...]) -> ColumnElement[bool]:
        return exists().where(
            ProviderAccount.user_id == model.user_id,
            ProviderAccount.provider == model.provider,
            ProviderAccount.external_id.in_(values),
        )

    return Filter("owner", where, description="The provider's user id (Fitbit: ownerId).")


def log_id(column: Expression) -> Attribute:
    # Unsigned 64-bit: above 2**53 a JSON number loses digits in most parsers, so it is text.
    return Attribute(
        cast(column, Text),
        "The provider's id of the entry, an unsigned 64-bit integer written as a string.",
    )


def log_id_filter(column: Expression) -> Filter:
    return Filter.on(
        "log_id", column, params.unsigned_64, description="The provider's id of the entry."
    )


def start_time_filter(start_time: Expression) -> Filter:
    return Filter.on(
        "start_time",
        start_time,
        params.local_timestamp,
        ranged=True,
        description="The local start (ISO 8601 without offset).",
    )


def utc(local: Expression, utc_offset_ms: Expression) -> ColumnElement[dt.datetime]:
    """The instant of a local time: local - offset, read as UTC. NULL without an offset."""
    offset = _MILLISECOND.op("*", return_type=Interval)(utc_offset_ms)
    shifted = local - offset
    return func.timezone("UTC", shifted, type_=DateTime(timezone=True))
