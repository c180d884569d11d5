"""Google Health behind the provider boundary (`service.providers.base`): its `Descriptor` and
the live `Provider` built from the `GOOGLE_HEALTH_*` settings, delegating to this package's
modules.

The project's subscriber is registered once, by an operator, with the AUTOMATIC policy: Google
then notifies us of every consenting person, so there are no per-user subscription calls
(`Provider.subscriptions` is None). AUTOMATIC is the only policy supported: `build` refuses
MANUAL (a subscription per person, made with the project's service-account credential).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from service.errors import ConfigError
from service.providers import errors, pkce
from service.providers.base import (
    Descriptor,
    Identity,
    Profile,
    Provider,
    ReceivedChange,
    SyncKey,
    TokenGrant,
)
from service.providers.google_health import (
    PROVIDER,
    datatypes,
    day,
    fetch,
    identity,
    notifications,
    oauth,
    signature,
)
from service.providers.google_health.client import GoogleHealthClient
from service.providers.google_health.keyset import KeysetCache
from service.providers.ratelimit import Meter
from service.providers.rows import DayData
from service.settings import Settings

log = logging.getLogger(__name__)

VERIFIED = 201  # Google accepts 200 or 201 for the right secret
REFUSED = 401  # and 401 or 403 for a missing or wrong one


@dataclass(frozen=True, slots=True)
class GoogleHealthWebhook:
    """Google's subscriber endpoint (`service.providers.base.Webhook`): verification by POST,
    pushes signed with Google's keyset and carrying our secret as `Authorization`."""

    secret: str  # empty where it is not configured (a worker): every request is refused
    keys: KeysetCache

    def verify_query(self, query: Sequence[tuple[str, str]]) -> int:
        return 404  # Google verifies with a POST only

    def verify_post(self, headers: Mapping[str, str], body: bytes) -> int | None:
        if not notifications.is_verification(body):
            return None
        refusal = signature.secret_refusal(signature.authorization_header(headers), self.secret)
        if refusal is None:
            return VERIFIED
        log.info("google_health verification refused", extra={"reason": refusal.value})
        return REFUSED

    async def authenticate(self, headers: Mapping[str, str], body: bytes) -> str | None:
        refusal = await signature.authenticate(headers, body, self.keys, self.secret)
        return None if refusal is None else refusal.value

    def parse(self, body: bytes) -> list[ReceivedChange]:
        return notifications.parse(body)


@dataclass(frozen=True, slots=True)
class GoogleHealthAccounts:
    """Google's OAuth 2.0 (authorization code with PKCE, offline) and `users/me/identity`."""

    oauth: oauth.OAuthClient
    client: GoogleHealthClient
    authorize_url: str
    redirect_uri: str | None

    def default_scopes(self) -> list[str]:
        return list(oauth.DEFAULT_SCOPES)

    def code_verifier(self) -> str:
        return pkce.code_verifier()

    def consent_url(self, *, state: str, scopes: list[str], code_verifier: str) -> str:
        return oauth.authorization_url(
            client_id=self.oauth.client_id,
            redirect_uri=self._redirect_uri(),
            state=state,
            challenge=pkce.code_challenge(code_verifier),
            scopes=scopes,
            authorize_url=self.authorize_url,
        )

    async def exchange_code(self, code: str, code_verifier: str) -> TokenGrant:
        return await self.oauth.exchange_code(code, self._redirect_uri(), code_verifier)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        return await self.oauth.refresh(refresh_token)

    async def revoke(self, token: str) -> None:
        await self.oauth.revoke(token)

    async def identify(self, grant: TokenGrant) -> Identity:
        """Google's token answer names nobody: `users/me/identity` does, once per connection."""
        found = await identity.get_identity(self.client, grant.access_token)
        profile = await self._profile(grant, found.health_user_id)
        return Identity(found.health_user_id, found.legacy_user_id, profile)

    async def _profile(self, grant: TokenGrant, user_id: str) -> Profile | None:
        if datatypes.SETTINGS_SCOPE not in grant.scopes:
            return None  # never break on a scope the person did not grant
        try:
            return await identity.get_profile(self.client, grant.access_token)
        except errors.ProviderError as exc:
            log.warning("settings of %s not read: %s", user_id, type(exc).__name__)
            return None

    def _redirect_uri(self) -> str:
        if not self.redirect_uri:
            raise ConfigError(
                "GOOGLE_HEALTH_REDIRECT_URI is not set; it is required for this command"
            )
        return self.redirect_uri


@dataclass(frozen=True, slots=True)
class GoogleHealthFetcher:
    client: GoogleHealthClient

    async def fetch(self, key: SyncKey, *, token: str, meter: Meter) -> DayData:
        return await day.fetch_day(
            self.client, key.owner_id, key.collection, key.date, token=token, meter=meter
        )


def build(settings: Settings, http: httpx.AsyncClient) -> Provider:
    if settings.google_health_subscription_policy != "automatic":
        raise ConfigError(
            "GOOGLE_HEALTH_SUBSCRIPTION_POLICY=manual is not supported: use automatic"
        )
    client = GoogleHealthClient(http, settings.google_health_api_url)
    tokens = oauth.OAuthClient(
        http,
        settings.secret("google_health_client_id"),
        settings.secret("google_health_client_secret"),
        token_url=settings.google_health_token_url,
        revoke_url=settings.google_health_revoke_url,
    )
    accounts = GoogleHealthAccounts(
        tokens, client, settings.google_health_authorize_url, settings.google_health_redirect_uri
    )
    secret = settings.google_health_webhook_secret
    # One keyset cache per process, shared by every request: a fetch per push would be slow
    # and would hammer gstatic.
    keys = KeysetCache(
        http,
        settings.google_health_keyset_url,
        min_refetch_interval=settings.google_health_keyset_refetch_seconds,
    )
    return Provider(
        descriptor=DESCRIPTOR,
        webhook=GoogleHealthWebhook(secret.get_secret_value() if secret else "", keys),
        accounts=accounts,
        subscriptions=None,
        fetcher=GoogleHealthFetcher(client),
    )


def _openapi() -> dict[str, Any]:
    """The push as Google sends it, for OpenAPI: the endpoint reads the raw bytes itself,
    because the signature covers them exactly as sent."""
    item = {
        "type": "object",
        "required": ["data"],
        "properties": {
            "data": {
                "type": "object",
                "required": ["healthUserId", "dataType", "operation"],
                "properties": {
                    "healthUserId": {"type": "string"},
                    "dataType": {"type": "string"},
                    "operation": {"type": "string", "enum": ["UPSERT", "DELETE"]},
                    "clientProvidedSubscriptionName": {"type": "string"},
                    "intervals": {"type": "array", "items": {"type": "object"}},
                },
            }
        },
    }
    verification = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"type": "string", "enum": ["verification"]}},
    }
    schema = {"oneOf": [verification, item, {"type": "array", "items": item}]}
    headers = [
        {
            "name": "X-HEALTHAPI-SIGNATURE",
            "in": "header",
            "required": False,
            "description": "base64(0x01 ‖ key id ‖ DER ECDSA P-256/SHA-256 over the body); "
            "also read as GOOGLE-HEALTH-API-SIGNATURE. Not sent with the verification.",
            "schema": {"type": "string"},
        },
        {
            "name": "Authorization",
            "in": "header",
            "required": True,
            "description": "The subscriber's configured secret, as the whole header value",
            "schema": {"type": "string"},
        },
    ]
    body = {"content": {"application/json": {"schema": schema}}}
    return {"parameters": headers, "requestBody": {"required": True, **body}}


DESCRIPTOR = Descriptor(
    name=PROVIDER,
    title="Google Health",
    route_prefix="/google-health",
    verify_by_get=False,
    refused_status=REFUSED,
    webhook_openapi=_openapi(),
    scopes=frozenset(oauth.DEFAULT_SCOPES),
    # Subscriptions and scopes are per data type; sync keys use `datatypes.COLLECTIONS`.
    collections=datatypes.SCOPES,
    calls={c: fetch.cost(c) for c in datatypes.COLLECTIONS},
    rate_rules=fetch.USER_BUDGET,
    credentials=("google_health_client_id", "google_health_client_secret"),
    serve_settings=(
        "google_health_client_secret",
        "google_health_webhook_secret",
        "google_health_client_id",
        "google_health_redirect_uri",
    ),
    build=build,
    legacy_provider="fitbit",
)
