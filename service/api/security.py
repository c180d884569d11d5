"""Who is calling: Bearer access tokens (RFC 6750) from `/oauth/token`, and their scopes.

Routes state what they need as a dependency: `ApiClientDep` (any valid token), or
`require_scope(...)` / `ReadClient`; the OpenAPI document then shows the OAuth 2.0 client
credentials flow and each operation's scopes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes
from starlette.requests import HTTPConnection

from service.api import errors, scopes, tokens
from service.api.oauth import TOKEN_PATH
from service.state import EngineDep


class ClientCredentials(OAuth2):
    """The OAuth 2.0 client credentials flow, as OpenAPI describes it; reads the Bearer token."""

    def __init__(self) -> None:
        flow = OAuthFlowClientCredentials(
            tokenUrl=TOKEN_PATH, refreshUrl=TOKEN_PATH, scopes=scopes.SCOPES
        )
        super().__init__(
            flows=OAuthFlows(clientCredentials=flow),
            scheme_name="OAuth2",
            description="Get a token at /oauth/token with your client id and secret; send it "
            "as `Authorization: Bearer <access_token>`.",
            auto_error=False,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return token.strip()


client_credentials = ClientCredentials()


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """The API client a request acts for, and what its token allows."""

    client_id: str
    name: str
    scopes: frozenset[str]


async def authenticated_client(
    required: SecurityScopes,
    token: Annotated[str | None, Depends(client_credentials)],
    engine: EngineDep,
) -> ApiPrincipal:
    if token is None:
        raise errors.unauthorized("a Bearer access token is required; get one at " + TOKEN_PATH)
    async with engine.connect() as conn:
        bearer = await tokens.bearer(conn, token)
    if bearer is None:
        raise errors.unauthorized("the access token is unknown or revoked", "invalid_token")
    if bearer.expired:
        raise errors.unauthorized("the access token has expired", "invalid_token")
    for scope in required.scopes:
        if scope not in bearer.scopes:
            raise errors.insufficient_scope(scope)
    return ApiPrincipal(bearer.client_id, bearer.client_name, bearer.scopes)


def require_scope(*needed: str) -> Any:
    """A dependency: a valid token holding every scope in `needed`, else 401 or 403."""
    return Security(authenticated_client, scopes=list(needed))


ApiClientDep = Annotated[ApiPrincipal, Security(authenticated_client)]
ReadClient = Annotated[ApiPrincipal, require_scope(scopes.READ)]
SubscriptionsWriteClient = Annotated[ApiPrincipal, require_scope(scopes.SUBSCRIPTIONS_WRITE)]
