"""A third-party OAuth 2.0 client (authlib) completes the authorization code grant with PKCE
and a refresh against the emulator over real HTTP: the emulator speaks standard OAuth, not
only our own client's reading of it."""

from __future__ import annotations

import secrets
import warnings

import authlib.deprecate
import httpx

from service.emulator.testing import EmulatorControl
from tests.emulator.emulator_support import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, YESTERDAY

# authlib 1.9 deprecates its integration with httpx (in favour of "httpx2") as it is
# imported, under a filter of its own that outranks pytest's; this is not ours to fix.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client


async def test_authlib_completes_code_with_pkce_then_refreshes(
    emulator_url: str, control: EmulatorControl
) -> None:
    verifier = secrets.token_urlsafe(48)
    async with AsyncOAuth2Client(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope="activity sleep",
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    ) as client:
        url, state = client.create_authorization_url(
            f"{emulator_url}/oauth2/authorize", code_verifier=verifier, user_id="AUTHLB"
        )
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(url)
        assert consent.status_code == 302
        # A browser keeps the fragment (Fitbit's "#_=_") to itself: the app's callback sees
        # the URL without it (and authlib would read a fragment as an implicit grant).
        callback = consent.headers["location"].removesuffix("#_=_")
        token = await client.fetch_token(
            f"{emulator_url}/oauth2/token",
            authorization_response=callback,
            code_verifier=verifier,
            state=state,
        )
        assert token["user_id"] == "AUTHLB"
        assert set(token["scope"].split()) == {"activity", "sleep"}

        data = await client.get(f"{emulator_url}/1.2/user/-/sleep/date/{YESTERDAY}.json")
        assert data.status_code == 200

        renewed = await client.refresh_token(
            f"{emulator_url}/oauth2/token", refresh_token=token["refresh_token"]
        )
        assert renewed["access_token"] != token["access_token"]
        assert renewed["refresh_token"] != token["refresh_token"]
        after = await client.get(f"{emulator_url}/1/user/-/activities/date/{YESTERDAY}.json")
        assert after.status_code == 200
    counters = await control.counters()
    assert counters.token_refreshes == 1
    assert counters.calls_by_user == {"AUTHLB": 2}
