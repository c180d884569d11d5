"""`POST /v1/users/{id}/backfills`: start (or resume) fetching a person's history.

Answers 202 with the `backfills` resource: the work is queued, and its progress is read at the
resource's self link. The same range asked again while unfinished resumes the same backfill.
"""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from service import backfills, queue
from service.api import bodies, documents, errors, failures, listing, schemas, scopes
from service.api.connections import user_id
from service.api.documents import MEDIA_TYPE, JsonApiResponse
from service.api.resources.backfills import RESOURCE
from service.api.routes import Links, resource_object
from service.api.security import require_scope
from service.state import EngineDep, RedisDep, SettingsDep, app_state

router = APIRouter(tags=[RESOURCE.type])


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return app_state(request)["sessions"]


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
BackfillBody = Annotated[bodies.BackfillRequest, Body(media_type=MEDIA_TYPE)]
_, _document = schemas.document_models(RESOURCE)


@router.post(
    "/users/{id}/backfills",
    status_code=202,
    summary="Start a backfill of a user's history",
    operation_id="create_user_backfill",
    dependencies=[require_scope(scopes.SUBSCRIPTIONS_WRITE), Depends(bodies.json_api_content)],
    response_class=JsonApiResponse,
    response_model=None,
    responses={
        202: {"model": _document, "description": "Queued; progress at links.self"},
        **failures.responses(403, 404, 409, 415, 422),
    },
)
async def create_backfill(
    id: str,
    document: BackfillBody,
    request: Request,
    sessions: SessionsDep,
    engine: EngineDep,
    redis: RedisDep,
    settings: SettingsDep,
) -> JsonApiResponse:
    """Every collection (or those named) of every day from `from` to `to`, at most 366 days,
    queued at backfill priority; the person's Fitbit account is the one fetched."""
    user = user_id(id)
    attributes = bodies.checked(document.data, "backfills").attributes
    try:
        wanted = backfills.parse_range(attributes.from_, attributes.to, attributes.collections)
        async with sessions.begin() as session:
            started = await backfills.start(
                session, user, wanted, reserve=settings.rate_budget_reserve
            )
    except backfills.UnknownUser as exc:
        raise errors.ApiError(404, str(exc)) from None
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
