"""The project's subscriber (FACTS §3): our endpoint, registered once by an operator.

    POST   /v4/projects/{number}/subscribers?subscriberId=…           Operation (verifies us)
    PATCH  /v4/projects/{number}/subscribers/{id}?updateMask=…        Operation
    GET    /v4/projects/{number}/subscribers                          {subscribers, nextPageToken}
    DELETE /v4/projects/{number}/subscribers/{id}?force=…             Operation

Every call uses the project's `cloud-platform` token (a service account's), supplied by the
caller: minting it needs Google's auth libraries or a key file, which stay outside this package.
`{project}` is the project *number*; the project id gets 403 (FACTS §3.1).

Decisions:
- Create and patch answer an `Operation` in Discovery but the `Subscriber` itself in the guide
  (FACTS §8.6), and there is no `operations.get`: both shapes are read; a finished operation
  gives its `response`, a failed one its error; an unfinished one is reported as pending (the
  endpoint verification runs during the call, so that is not expected).
- Patch of `subscriberConfigs` replaces them all: we always send the full list.
- The service supports the `AUTOMATIC` policy only: Google then notifies us of every
  consenting person, with no per-user call. `MANUAL` (a subscription per person, made with the
  project's credential) is refused when the provider is built (`provider.build`).
- Data types are documented both as kebab ids and as `users/{id}/dataTypes/{type}` names
  (FACTS §3.4): we send kebab ids, as subscriber configs take, and read either form back.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from service.providers import errors
from service.providers.google_health.client import GoogleHealthClient, raise_for_status

RESOURCE_ID = re.compile(r"[a-z]([a-z0-9-]{2,34}[a-z0-9])")
MAX_PAGES = 100


class Policy(enum.Enum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


@dataclass(frozen=True, slots=True)
class Subscriber:
    name: str  # projects/{number}/subscribers/{id}
    endpoint_uri: str | None
    state: str | None  # UNVERIFIED, ACTIVE, INACTIVE; None while an operation is pending
    configs: tuple[tuple[tuple[str, ...], str], ...]  # (data types, policy)
    secret_set: bool | None


class AlreadyExists(errors.ProviderError):
    """409: a subscriber with this id exists already."""


@dataclass(frozen=True, slots=True)
class SubscriberApi:
    client: GoogleHealthClient
    project_number: str

    @property
    def parent(self) -> str:
        return f"projects/{quote(self.project_number, safe='')}"

    def subscriber_name(self, subscriber_id: str) -> str:
        return f"{self.parent}/subscribers/{subscriber_id}"

    async def create_subscriber(
        self,
        token: str,
        subscriber_id: str,
        *,
        endpoint_uri: str,
        secret: str,
        data_types: Sequence[str],
        policy: Policy,
    ) -> Subscriber:
        """Register our endpoint; Google verifies it (two POSTs) before answering."""
        _check_id(subscriber_id)
        body = _settings(endpoint_uri, secret, data_types, policy)
        path = f"/v4/{self.parent}/subscribers"
        response = await self.client.send(
            "POST", path, token=token, params={"subscriberId": subscriber_id}, json=body
        )
        if response.status_code == 409:
            raise AlreadyExists(f"POST {path}: 409")
        raise_for_status(response, f"POST {path}")
        return _subscriber(_operation_result(_json(response)), self.subscriber_name(subscriber_id))

    async def update_subscriber(
        self,
        token: str,
        subscriber_id: str,
        *,
        endpoint_uri: str,
        secret: str,
        data_types: Sequence[str],
        policy: Policy,
    ) -> Subscriber:
        """Replace the endpoint, secret and configs (Google re-verifies the endpoint)."""
        name = self.subscriber_name(subscriber_id)
        body = {"name": name, **_settings(endpoint_uri, secret, data_types, policy)}
        # The names Discovery lists (the guide writes them in camelCase).
        mask = "endpoint_uri,endpoint_authorization,subscriber_configs"
        answer = await self.client.call(
            "PATCH", f"/v4/{name}", token=token, params={"updateMask": mask}, json=body
        )
        return _subscriber(_operation_result(answer), name)

    async def ensure_subscriber(
        self,
        token: str,
        subscriber_id: str,
        *,
        endpoint_uri: str,
        secret: str,
        data_types: Sequence[str],
        policy: Policy,
    ) -> Subscriber:
        """Create the subscriber, or update it when it exists (what the CLI command runs)."""
        arguments: dict[str, Any] = {
            "endpoint_uri": endpoint_uri,
            "secret": secret,
            "data_types": data_types,
            "policy": policy,
        }
        try:
            return await self.create_subscriber(token, subscriber_id, **arguments)
        except AlreadyExists:
            return await self.update_subscriber(token, subscriber_id, **arguments)

    async def list_subscribers(self, token: str) -> list[Subscriber]:
        found = await self._pages(token, f"/v4/{self.parent}/subscribers", "subscribers", {})
        return [_subscriber(item, "") for item in found]

    async def delete_subscriber(self, token: str, subscriber_id: str, *, force: bool) -> bool:
        """True when deleted, False when there was none. `force` also deletes subscriptions."""
        path = f"/v4/{self.subscriber_name(subscriber_id)}"
        response = await self.client.send("DELETE", path, token=token, params={"force": force})
        if response.status_code == 404:
            return False
        raise_for_status(response, f"DELETE {path}")
        _operation_result(_json(response))
        return True

    async def _pages(
        self, token: str, path: str, member: str, params: dict[str, str | int]
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(MAX_PAGES):
            body = await self.client.call("GET", path, token=token, params=query)
            listed = body.get(member) if isinstance(body, dict) else None
            found.extend(item for item in listed or [] if isinstance(item, dict))
            page = body.get("nextPageToken") if isinstance(body, dict) else None
            if not isinstance(page, str) or not page:
                return found
            query = {**params, "pageToken": page}
        raise errors.UnexpectedResponse(f"GET {path}: more than {MAX_PAGES} pages")


def _check_id(value: str) -> None:
    if not RESOURCE_ID.fullmatch(value):
        raise ValueError(f"ids are 4-36 characters of [a-z0-9-], starting with a letter: {value!r}")


def _settings(
    endpoint_uri: str, secret: str, data_types: Sequence[str], policy: Policy
) -> dict[str, Any]:
    """What create sends and patch replaces (patch replaces the configs whole)."""
    return {
        "endpointUri": endpoint_uri,
        "endpointAuthorization": {"secret": secret},
        "subscriberConfigs": [
            {"dataTypes": list(data_types), "subscriptionCreatePolicy": policy.value}
        ],
    }


def _json(response: Any) -> Any:
    try:
        return response.json() if response.content else {}
    except ValueError:
        raise errors.ProviderUnavailable("answer is not JSON") from None


def _operation_result(body: Any) -> dict[str, Any]:
    """The resource an `Operation` (or a bare resource, as the guide shows) stands for."""
    if not isinstance(body, dict):
        raise errors.UnexpectedResponse("expected an object")
    if "done" not in body and "response" not in body and "error" not in body:
        return body  # the resource itself
    error = body.get("error")
    if isinstance(error, dict):
        raise errors.UnexpectedResponse(
            f"operation failed: {error.get('code')} {error.get('status') or ''}".rstrip()
        )
    response = body.get("response")
    return response if isinstance(response, dict) else {}


def _subscriber(item: dict[str, Any], default_name: str) -> Subscriber:
    configs = tuple(
        (tuple(_data_types(config.get("dataTypes"))), str(config.get("subscriptionCreatePolicy")))
        for config in item.get("subscriberConfigs") or []
        if isinstance(config, dict)
    )
    authorization = item.get("endpointAuthorization")
    secret_set = authorization.get("secretSet") if isinstance(authorization, dict) else None
    name, uri, state = item.get("name"), item.get("endpointUri"), item.get("state")
    return Subscriber(
        name=name if isinstance(name, str) and name else default_name,
        endpoint_uri=uri if isinstance(uri, str) else None,
        state=state if isinstance(state, str) else None,
        configs=configs,
        secret_set=secret_set if isinstance(secret_set, bool) else None,
    )


def _data_types(values: Any) -> list[str]:
    """Kebab ids, whether Google wrote `steps` or `users/{id}/dataTypes/steps`."""
    if not isinstance(values, list):
        return []
    return [value.rsplit("/", 1)[-1] for value in values if isinstance(value, str)]
