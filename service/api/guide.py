"""How to use the internal API, as `/openapi.json` tells it (the info and tag descriptions)."""

from __future__ import annotations

from typing import Any

from service.api.resource import Resource

OVERVIEW = """\
Downstream services read what this service keeps through `/v1`. Requests and answers are
[JSON:API 1.0](https://jsonapi.org/format/1.0/) documents (`application/vnd.api+json`).

# Authentication
OAuth 2.0 ([RFC 6749](https://tools.ietf.org/html/rfc6749)) client credentials. An operator
creates a client with `fitbit-subscriber clients create NAME --scope read` and hands over the
client id and secret it prints once. Exchange them at `POST /oauth/token`
(`grant_type=client_credentials`, HTTP Basic or form credentials) for an access token, send it
as `Authorization: Bearer <token>`, and renew it with `grant_type=refresh_token` before
`expires_in` runs out. A refresh token works once; the answer carries the next one.
Without a valid token the answer is 401 with `WWW-Authenticate`; without the scope, 403.

# Paging
Every collection supports two strategies; mixing them is a 400.

- **Skip-based**, the default: `page[size]` and `page[number]`. `links` has `first`,
  `last`, `prev` and `next` (null where there is none). Rows inserted while you iterate can
  shift pages: you may see a row twice or miss one.
- **Cursor-based**, chosen by `page[limit]`: follow `links.next` (it carries `page[after]`,
  an opaque cursor) until it is absent. Rows inserted meanwhile never cause a repeat or a
  miss; prefer it for synchronising.

`meta.count` is the number of resources matching the filters; compare it with what you
fetched. `page[size]=0` or `page[limit]=0` returns only the count.

# Sorting and filtering
`sort=field,-field` on the fields each collection lists (ties go by id).
`filter[name]=a,b` matches any of the values; range filters also take
`filter[name][gte|gt|lte|lt]=value`. Unknown parameters are a 400.

# Connecting people
With the `subscriptions:write` scope. `POST /v1/connections` with
`{"data": {"type": "connections", "attributes": {"user_ref": "..."}}}` answers a single-use
`authorization_url` (valid 10 minutes): send the person there; Fitbit brings them back to
`/fitbit/callback`, which subscribes every collection whose scope they granted.
`/v1/users/{id}/subscriptions` lists, adds (`POST`, one collection or all granted;
`PUT /v1/users/{id}/subscriptions/{collection}`) and removes (`DELETE .../{collection}`) them
at Fitbit; both are idempotent. `DELETE /v1/users/{id}` disconnects the person.
`/v1/account-events` tells what happened to connections (revoked at Fitbit, say).
Request bodies are JSON:API documents sent as `application/vnd.api+json`.

# Errors
`errors` objects with `status`, `code`, `title`, `detail`, and `source.parameter` naming
the query parameter at fault, or `source.pointer` the member of the body. A 409's `code`
says what stands in the way: `UserDisconnected`, `UserReauthRequired`, `ScopeNotGranted`,
`SubscriptionConflict`, `SubscriptionsAutomatic`, `provider_not_enabled` (the person's
provider is not served here); Fitbit failing is a 502 or 503 (`ProviderUnavailable`,
`ProviderRateLimited` with `Retry-After`).
"""

AUTHENTICATION = "Tokens for API clients (RFC 6749 client credentials and refresh token)."
CONNECTIONS = "Begin connecting a person to Fitbit: a consent URL for a user_ref."


def tags(resources: tuple[Resource, ...]) -> list[dict[str, Any]]:
    return [
        {"name": "oauth", "description": AUTHENTICATION},
        {"name": "connections", "description": CONNECTIONS},
        *({"name": r.type, "description": r.description} for r in resources),
    ]
