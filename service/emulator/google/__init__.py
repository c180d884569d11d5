"""The emulator's Google Health API mode: the successor of the Fitbit Web API, served by the
same process beside it.

It speaks Google's side of the protocol as `shared/google-health/FACTS.md` records it: Google
OAuth 2.0 (`/o/oauth2/v2/auth`, `/token`, `/revoke`; offline access, PKCE, refresh tokens that
are not rotated), `GET /v4/users/me/identity`, the project's subscribers and MANUAL
subscriptions under `/v4/projects/{number}/...` (with the endpoint verification handshake),
notifications signed with ECDSA P-256 under a Tink keyset served at a keyset URL, the
`users/me/dataTypes/{type}/dataPoints` reads (list, reconcile, rollUp, dailyRollUp) and the
per-user, per-minute rate limit. Its control API lives under `/_emulator/google`.

Like the Fitbit emulator, it imports nothing from the service's own Google Health client.
"""

from service.emulator.google.config import GoogleConfig

__all__ = ["GoogleConfig"]
