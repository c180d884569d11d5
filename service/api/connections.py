"""`POST /v1/connections` (begin connecting a person) and `DELETE /v1/users/{id}` (disconnect).

Connecting ends outside the API: the person follows `authorization_url` to Fitbit, and Fitbit
sends them to `GET /fitbit/callback`, which links the account under the re-connection rules
of `connect/onboarding.py` and subscribes what they granted.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response

from service.api import bodies, documents, errors, failures, params, scopes
from service.api.documents import MEDIA_TYPE, JsonApiResponse
from service.api.security import require_scope
from service.connect import management
from service.providers.errors import UnknownProvider
from service.state import ConnectorDep

router = APIRouter(
    dependencies=[require_scope(scopes.SUBSCRIPTIONS_WRITE), Depends(bodies.json_api_content)]
)

ConnectionBody = Annotated[bodies.ConnectionRequest, Body(media_type=MEDIA_TYPE)]


@router.post(
    "/connections",
    status_code=201,
    tags=["connections"],
    summary="Begin connecting a person",
    operation_id="create_connection",
    response_class=JsonApiResponse,
    response_model=None,
    responses={
        201: {"model": bodies.ConnectionDocument, "description": "Send the person to the URL"},
        **failures.responses(403, 409, 415, 422),
    },
)
async def create_connection(document: ConnectionBody, connector: ConnectorDep) -> JsonApiResponse:
    """A single-use consent URL for `user_ref`, valid for 10 minutes. Once the person has
    consented, `GET /v1/users?filter[user_ref]=...` finds them."""
    data = bodies.checked(document.data, "connections")
    asked, provider = data.attributes.scopes, data.attributes.provider
    # 409, not 422: the document is valid; this deployment's providers refuse it.
    try:
        chosen = connector.provider(provider or connector.providers.default)
    except UnknownProvider:
        detail = f"{provider!r} is not enabled here"
        raise failures.not_enabled(detail, "/data/attributes/provider") from None
    if asked and not set(asked) <= chosen.descriptor.scopes:
        raise errors.ApiError(
            409,
            f"scopes {chosen.name} does not define",
            pointer="/data/attributes/scopes",
            code="scope_of_another_provider",
        )
    consent = await connector.ask(
        data.attributes.user_ref, list(dict.fromkeys(asked)) if asked else None, chosen.name
    )
    resource = {
        "type": "connections",
        "id": consent.state_hash,
        "attributes": documents.jsonable(
            {
                "authorization_url": consent.url,
                "expires_at": consent.expires_at,
                "provider": consent.provider,
                "user_ref": data.attributes.user_ref,
                "scopes": consent.scopes,
            }
        ),
    }
    return JsonApiResponse({"jsonapi": documents.JSONAPI, "data": resource}, status_code=201)


@router.delete(
    "/users/{id}",
    status_code=204,
    tags=["users"],
    summary="Disconnect a person",
    operation_id="disconnect_user",
    # The answer is empty, but failures are JSON:API documents, and documented so.
    response_class=JsonApiResponse,
    responses={
        204: {"description": "Disconnected now, or already before"},
        **failures.responses(404),
    },
)
async def disconnect_user(id: str, connector: ConnectorDep) -> Response:
    """Remove the person's subscriptions at Fitbit, revoke our token, forget the tokens and
    mark them disconnected; their data is kept unless PURGE_DATA_ON_DISCONNECT is set.
    Fitbit failing does not stop it (the clean-up there is then incomplete, and logged).
    Repeating it is a 204 that changes nothing; the user stays listed, as `disconnected`."""
    with failures.answered():
        await management.disconnect(connector, user_id(id))
    return Response(status_code=204)


def user_id(text: str) -> int:
    try:
        return params.integer(text)
    except ValueError:
        raise errors.not_found("users", text) from None
