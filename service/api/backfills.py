"""`POST /v1/users/{id}/backfills`: start (or resume) fetching a person's history.

Answers 202 with the `backfills` resource: the work is queued, and its progress is read at the
resource's self link. The same range asked again while unfinished resumes the same backfill.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import backfills, queue
from service.api import documents, errors, listing, schemas, scopes
from service.api.documents import JsonApiResponse
from service.api.resources.backfills import RESOURCE
from service.api.routes import Links, resource_object
from service.api.security import require_scope
from service.state import EngineDep, RedisDep, SettingsDep, app_state

router = APIRouter(tags=[RESOURCE.type])


class BackfillAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: dt.date = Field(alias="from", description="The first day (YYYY-MM-DD).")
    to: dt.date = Field(description="The last day (YYYY-MM-DD).")
    collections: list[str] | None = Field(
        None, description=f"Default: all ({', '.join(backfills.COLLECTIONS)})."
    )


class BackfillData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["backfills"]
    attributes: BackfillAttributes


class NewBackfill(BaseModel):
    data: BackfillData


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return app_state(request)["sessions"]


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
_, _document = schemas.document_models(RESOURCE)


@router.post(
    "/users/{id}/backfills",
    status_code=202,
    summary="Start a backfill of a user's history",
    dependencies=[require_scope(scopes.SUBSCRIPTIONS_WRITE)],
    response_class=JsonApiResponse,
    response_model=None,
    responses={
        202: {"model": _document, "description": "Queued; progress at links.self"},
        **schemas.ERROR_RESPONSES,
        404: {"model": schemas.ErrorDocument, "description": "No such user"},
        422: {"model": schemas.ErrorDocument, "description": "The document is wrong"},
    },
)
async def create_backfill(
    id: str,
    body: NewBackfill,
    request: Request,
    sessions: SessionsDep,
    engine: EngineDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> JsonApiResponse:
    attributes = body.data.attributes
    if not id.isdigit():
        raise errors.not_found("users", id)
    try:
        wanted = backfills.parse_range(attributes.from_, attributes.to, attributes.collections)
        async with sessions.begin() as session:
            started = await backfills.start(
                session, id, wanted, reserve=settings.rate_budget_reserve
            )
    except backfills.UnknownUser:
        raise errors.not_found("users", id) from None
    except backfills.BackfillError as exc:
        pointer = f"/data/attributes/{exc.field}" if exc.field else "/data"
        raise errors.ApiError(422, str(exc), pointer=pointer) from None
    # If Redis is down the keys stay pending, recorded: the sweeper queues them later.
    with contextlib.suppress(queue.QueueUnavailable):
        await backfills.enqueue(redis, started)
    async with engine.connect() as conn:
        row = await listing.read_one(conn, RESOURCE, started.backfill_id)
    assert row is not None  # noqa: S101 - committed just above
    data = resource_object(RESOURCE, row, Links.of(request))
    headers = {"Location": data["links"]["self"]}
    return JsonApiResponse(documents.single(data, data["links"]["self"]), 202, headers=headers)
