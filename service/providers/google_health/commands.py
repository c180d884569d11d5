"""`google-health subscriber`: register the project's subscriber (our webhook) at Google, or
update it, with the AUTOMATIC policy for every data type we sync.

Google verifies the endpoint before it answers (a POST with our secret must get 201, one
without it 401), so the service must already be serving `POST /google-health/webhook` at
`--endpoint` with the same `GOOGLE_HEALTH_WEBHOOK_SECRET`. The call needs the project's own
credential, never a person's: an access token with the `cloud-platform` scope
(`GOOGLE_HEALTH_CLOUD_TOKEN`, e.g. `gcloud auth print-access-token
--impersonate-service-account=...`), valid for an hour and used by this command only.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

import httpx

from service.providers import errors
from service.providers.google_health.client import GoogleHealthClient
from service.providers.google_health.datatypes import LOG_TYPES, SUMMARY_TYPES
from service.providers.google_health.subscriptions import Policy, Subscriber, SubscriberApi
from service.settings import Settings

DEFAULT_SUBSCRIBER_ID = "fitbit-subscriber"
# Creating a subscriber waits for Google's two verification POSTs to our endpoint.
TIMEOUT_SECONDS = 60.0


def add_parsers(commands: Any) -> None:
    google = commands.add_parser("google-health", help="set up the Google Health side")
    actions = google.add_subparsers(title="actions", required=True, dest="action")
    subscriber = actions.add_parser(
        "subscriber", help="create or update the project's subscriber (our webhook) at Google"
    )
    subscriber.add_argument(
        "--endpoint",
        required=True,
        help="our webhook as Google reaches it: https://…/google-health/webhook",
    )
    subscriber.add_argument("--id", default=DEFAULT_SUBSCRIBER_ID, help="the subscriber's id")
    subscriber.add_argument(
        "--data-type",
        action="append",
        dest="data_types",
        help="a data type to be notified of (repeatable); default: every one we sync",
    )
    google.set_defaults(command=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.require(
        "google_health_project_number", "google_health_webhook_secret", "google_health_cloud_token"
    )
    types = args.data_types or [*SUMMARY_TYPES, *LOG_TYPES]
    try:
        made = asyncio.run(ensure_subscriber(settings, args.endpoint, args.id, types))
    except errors.ProviderError as exc:
        print(f"google-health subscriber: Google refused: {exc}", file=sys.stderr)
        return 1
    print(f"{made.name}: {made.state or 'pending'} at {made.endpoint_uri}")
    return 0


async def ensure_subscriber(
    settings: Settings, endpoint: str, subscriber_id: str, data_types: Sequence[str]
) -> Subscriber:
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        client = GoogleHealthClient(http, settings.google_health_api_url)
        api = SubscriberApi(client, settings.secret("google_health_project_number"))
        return await api.ensure_subscriber(
            settings.secret("google_health_cloud_token"),
            subscriber_id,
            endpoint_uri=endpoint,
            secret=settings.secret("google_health_webhook_secret"),
            data_types=data_types,
            policy=Policy.AUTOMATIC,
        )
