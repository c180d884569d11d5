"""Request documents: the JSON:API 1.0 resource objects clients send to `/v1`.

The models validate a body and describe it in `/openapi.json`; a member they refuse is a 422
whose `source.pointer` names it. `checked` adds what JSON:API asks beyond the shape: 409 for a
resource of another type than the endpoint's, 403 for an id the client chose.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, TypeVar

from fastapi import Request
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
)

from service import backfills
from service.api.documents import MEDIA_TYPE
from service.api.errors import ApiError
from service.providers import registry

MAX_USER_REF = 255
COLLECTIONS = registry.collections()
SCOPES = sorted({scope for d in registry.DESCRIPTORS.values() for scope in d.scopes})


def _known_scope(value: str) -> str:
    if value not in SCOPES:
        raise ValueError(f"scopes are: {', '.join(SCOPES)}")
    return value


# A scope of an enabled provider; a wrong one is named by its index in the list.
ScopeName = Annotated[
    str, AfterValidator(_known_scope), WithJsonSchema({"type": "string", "enum": SCOPES})
]


async def json_api_content(request: Request) -> None:
    """A body must come as a JSON:API document (415 otherwise); no body is for the route."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if await request.body() and content_type != MEDIA_TYPE:
        raise ApiError(415, f"send the body as Content-Type: {MEDIA_TYPE}")


class NewResource(BaseModel):
    """A resource object to create: `type` is checked by `checked`, an `id` is refused."""

    model_config = ConfigDict(extra="allow")

    type: str


Data = TypeVar("Data", bound=NewResource)


def checked(data: Data, type_: str) -> Data:
    if data.type != type_:
        raise ApiError(
            409, f"this endpoint takes {type_!r}, not {data.type!r}", pointer="/data/type"
        )
    if data.model_extra and "id" in data.model_extra:
        raise ApiError(403, "ids are chosen by the server; send no id", pointer="/data/id")
    return data


# -- connections ------------------------------------------------------------------------------


class ConnectionAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_ref: str = Field(
        min_length=1,
        max_length=MAX_USER_REF,
        description="Your own id of the person; the callback ties their Fitbit account to it.",
    )
    scopes: list[ScopeName] | None = Field(
        None,
        min_length=1,
        description="The provider's scopes to ask for; omitted: the provider's default ones "
        "(Fitbit: FITBIT_SCOPES). A collection is synced only if the person grants its scope.",
    )
    provider: str | None = Field(
        None,
        json_schema_extra={"enum": [*registry.DESCRIPTORS]},
        description="Where the person connects (an enabled provider); omitted: the first of "
        "ENABLED_PROVIDERS. A Fitbit user moving to Google Health connects with google_health.",
    )

    @field_validator("user_ref")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class NewConnection(NewResource):
    type: str = Field(json_schema_extra={"enum": ["connections"]})
    attributes: ConnectionAttributes


class ConnectionRequest(BaseModel):
    data: NewConnection


class ConsentAttributes(BaseModel):
    authorization_url: str = Field(description="Send the person here to give consent.")
    expires_at: dt.datetime = Field(description="The URL works once, until then.")
    provider: str
    user_ref: str
    scopes: list[str] = Field(description="The scopes asked for.")


class ConnectionResource(BaseModel):
    type: Literal["connections"]
    id: str
    attributes: ConsentAttributes


class ConnectionDocument(BaseModel):
    data: ConnectionResource


# -- subscriptions ----------------------------------------------------------------------------


class SubscriptionAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    collection: str | None = Field(
        None,
        json_schema_extra={"enum": [*COLLECTIONS]},
        description="The collection; omitted: every collection whose scope was granted.",
    )

    @field_validator("collection")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in COLLECTIONS:
            raise ValueError(f"collections are: {', '.join(COLLECTIONS)}")
        return value


class NewSubscription(NewResource):
    type: str = Field(json_schema_extra={"enum": ["subscriptions"]})
    attributes: SubscriptionAttributes = Field(default_factory=SubscriptionAttributes)


class SubscriptionRequest(BaseModel):
    data: NewSubscription


# -- backfills --------------------------------------------------------------------------------


def _date_text(value: object) -> object:
    # As text only: pydantic would also read a number as a Unix time.
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date as text: YYYY-MM-DD")
    return value


Day = Annotated[dt.date, BeforeValidator(_date_text)]
BackfillCollection = Annotated[
    str, WithJsonSchema({"type": "string", "enum": [*backfills.COLLECTIONS]})
]


class BackfillAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_: Day = Field(alias="from", description="The first day (YYYY-MM-DD).")
    to: Day = Field(description="The last day (YYYY-MM-DD).")
    collections: list[BackfillCollection] | None = Field(
        None,
        min_length=1,
        description=f"Default: all ({', '.join(backfills.COLLECTIONS)}).",
    )


class NewBackfill(NewResource):
    type: str = Field(json_schema_extra={"enum": ["backfills"]})
    attributes: BackfillAttributes


class BackfillRequest(BaseModel):
    data: NewBackfill
