"""Fitbit behind the provider boundary (`service.providers.base`): its `Descriptor` and the
live `Provider` built from the Fitbit settings, delegating to this package's modules."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import httpx

from service.errors import ConfigError
from service.providers import errors, pkce
from service.providers.base import (
    Descriptor,
    Identity,
    Profile,
    Provider,
    RateRules,
    Subscribed,
    SyncKey,
    TokenGrant,
)
from service.providers.fitbit import PROVIDER, day, fetch, notifications, oauth, subscriptions
from service.providers.fitbit.client import FitbitClient
from service.providers.fitbit.subscriptions import SubscriptionApi
from service.providers.fitbit.webhook import OPENAPI, FitbitWebhook
from service.providers.ratelimit import Meter
from service.providers.rows import DayData
from service.settings import Settings

log = logging.getLogger(__name__)

# 150 calls per user per hour, the window resetting at the top of the hour; the
# `Fitbit-Rate-Limit-*` headers of every answer tell the budget the rest.
RATE_RULES = RateRules(limit=150, window_seconds=3600.0)


@dataclass(frozen=True, slots=True)
class FitbitAccounts:
    """Fitbit's OAuth 2.0 (authorization code with PKCE) and the profile read on connect."""

    oauth: oauth.OAuthClient
    profiles: SubscriptionApi
    authorize_url: str
    redirect_uri: str | None
    scopes: tuple[str, ...]

    def default_scopes(self) -> list[str]:
        return list(self.scopes)

    def code_verifier(self) -> str:
        return pkce.code_verifier()

    def consent_url(self, *, state: str, scopes: list[str], code_verifier: str) -> str:
        return oauth.authorization_url(
            self.authorize_url,
            client_id=self.oauth.client_id,
            redirect_uri=self._redirect_uri(),
            scopes=scopes,
            state=state,
            challenge=pkce.code_challenge(code_verifier),
        )

    async def exchange_code(self, code: str, code_verifier: str) -> TokenGrant:
        return await self.oauth.exchange_code(code, self._redirect_uri(), code_verifier)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        return await self.oauth.refresh(refresh_token)

    async def revoke(self, token: str) -> None:
        await self.oauth.revoke(token)

    async def identify(self, grant: TokenGrant) -> Identity:
        """Fitbit names the user in the token answer; the profile gives the time zone."""
        if not grant.user_id:
            raise errors.UnexpectedResponse("the token answer names no user")
        return Identity(grant.user_id, profile=await self._profile(grant))

    async def _profile(self, grant: TokenGrant) -> Profile | None:
        if "profile" not in grant.scopes:
            return None  # never break on a scope the person did not grant
        try:
            return await self.profiles.profile(grant.access_token)
        except errors.ProviderError as exc:
            log.warning("profile of %s not read: %s", grant.user_id, type(exc).__name__)
            return None

    def _redirect_uri(self) -> str:
        if not self.redirect_uri:
            raise ConfigError("FITBIT_REDIRECT_URI is not set; it is required for this command")
        return self.redirect_uri


@dataclass(frozen=True, slots=True)
class FitbitSubscriptions:
    """Per-user, per-collection subscriptions (never "all collections", so never mixed)."""

    api: SubscriptionApi

    def subscription_id(self, user_id: int, collection: str) -> str:
        return subscriptions.subscription_id(user_id, collection)

    async def subscribe(self, token: str, collection: str, sub_id: str) -> Subscribed:
        return await self.api.subscribe(token, collection, sub_id)

    async def unsubscribe(self, token: str, collection: str, sub_id: str) -> bool:
        return await self.api.unsubscribe(token, collection, sub_id)

    async def list(self, token: str) -> list[tuple[str, str]]:
        listed = await self.api.list(token)
        return [(str(i.get("collectionType")), str(i.get("subscriptionId"))) for i in listed]


@dataclass(frozen=True, slots=True)
class FitbitFetcher:
    client: FitbitClient

    async def fetch(self, key: SyncKey, *, token: str, meter: Meter) -> DayData:
        return await day.fetch_day(
            self.client, key.owner_id, key.collection, key.date, token=token, meter=meter
        )


def build(settings: Settings, http: httpx.AsyncClient) -> Provider:
    client = FitbitClient(http, settings.fitbit_api_url)
    api = SubscriptionApi(client, settings.fitbit_subscriber_id)
    secret = settings.secret("fitbit_client_secret")
    code = settings.fitbit_verification_code
    tokens = oauth.OAuthClient(
        http, settings.fitbit_api_url, settings.secret("fitbit_client_id"), secret
    )
    accounts = FitbitAccounts(
        tokens,
        api,
        settings.fitbit_authorize_url,
        settings.fitbit_redirect_uri,
        tuple(settings.fitbit_scopes.split()),
    )
    return Provider(
        descriptor=DESCRIPTOR,
        webhook=FitbitWebhook(secret, code.get_secret_value() if code else ""),
        accounts=accounts,
        subscriptions=FitbitSubscriptions(api),
        fetcher=FitbitFetcher(client),
    )


def _least_calls(collection: str) -> int:
    return len(fetch.plan("-", collection, dt.date(2000, 1, 1)))


DESCRIPTOR = Descriptor(
    name=PROVIDER,
    title="Fitbit",
    route_prefix="/fitbit",
    verify_by_get=True,
    refused_status=404,  # Fitbit documents 404 for an unsigned or mis-signed push
    webhook_openapi=OPENAPI,
    scopes=oauth.SCOPES,
    collections=oauth.COLLECTION_SCOPES,
    calls={c: _least_calls(c) for c in sorted(notifications.DATA_COLLECTIONS)},
    rate_rules=RATE_RULES,
    credentials=("fitbit_client_id", "fitbit_client_secret"),
    serve_settings=(
        "fitbit_client_secret",
        "fitbit_verification_code",
        "fitbit_client_id",
        "fitbit_redirect_uri",
    ),
    build=build,
)
