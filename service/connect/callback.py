"""`GET {prefix}/callback` (`/fitbit/callback`): where a provider sends the person back after
the consent screen, one route per enabled provider.

Nothing is stored for an unknown, expired or reused `state`. A refusal is recorded against
the pending connection. A success redirects to `CONNECT_SUCCESS_URL` when set (with `status`,
`user_id` and `user_ref` added to its query), and answers JSON otherwise.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, RedirectResponse

from service.connect.flow import Connected, Connector
from service.connect.onboarding import InvalidState, LinkConflict
from service.providers import errors
from service.providers.base import Descriptor
from service.state import ConnectorDep, SettingsDep

log = logging.getLogger(__name__)


def router(descriptor: Descriptor) -> APIRouter:
    """The provider's callback route."""
    routes = APIRouter(prefix=descriptor.route_prefix, tags=["connect"])
    title = descriptor.title

    @routes.get(
        "/callback",
        responses={
            303: {"description": "Connected; on to CONNECT_SUCCESS_URL"},
            400: {"description": f"Unknown, expired or reused state; or a code {title} refused"},
            403: {"description": "The person declined"},
            409: {"description": "The account or user_ref belongs to another connection"},
            502: {"description": f"{title} failed; try connecting again"},
        },
    )
    async def callback(
        connector: ConnectorDep,
        settings: SettingsDep,
        state: str = Query(default=""),
        code: str = Query(default=""),
        error: str = Query(default=""),
    ) -> Response:
        """Finish a connection begun with `POST /v1/connections`."""
        return await finish(connector, descriptor, settings.connect_success_url, state, code, error)

    return routes


async def finish(
    connector: Connector,
    descriptor: Descriptor,
    success_url: str | None,
    state: str,
    code: str,
    error: str,
) -> Response:
    title = descriptor.title
    try:
        if error:
            user_ref = await connector.deny(state, error)
            return _answer(
                success_url,
                403,
                "denied",
                user_ref=user_ref,
                detail=f"The person declined to connect their {title} account.",
            )
        if not code:
            return _error(400, "missing_code", "the callback carries neither code nor error")
        connected = await connector.complete(state, code, descriptor.name)
    except InvalidState as exc:
        return _error(400, "invalid_state", str(exc))
    except LinkConflict as exc:
        return _error(409, exc.code, str(exc))
    except errors.InvalidGrant:
        return _error(
            400, "invalid_grant", f"{title} refused the authorization code; connect again"
        )
    except errors.ProviderError as exc:
        log.warning("connect failed at the provider: %s", type(exc).__name__)
        return _error(502, "provider_error", f"{title} could not complete the connection")
    return _connected(success_url, connected)


def _connected(success_url: str | None, connected: Connected) -> Response:
    return _answer(
        success_url,
        200,
        connected.outcome.value,
        user_ref=connected.user_ref,
        user_id=str(connected.user_id),
        scopes=sorted(connected.scopes),
        subscriptions=connected.subscriptions,
    )


def _answer(success_url: str | None, status: int, outcome: str, **fields: object) -> Response:
    if success_url:
        query = {"status": outcome, **{k: v for k, v in fields.items() if isinstance(v, str)}}
        separator = "&" if "?" in success_url else "?"
        return RedirectResponse(f"{success_url}{separator}{urlencode(query)}", status_code=303)
    return JSONResponse({"status": outcome, **fields}, status_code=status)


def _error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "detail": detail}}, status_code=status)
