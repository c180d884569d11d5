"""The project's subscribers (notification endpoints) and their MANUAL subscriptions.

A subscriber's configs say, per data type, whether notifications go to every consenting user
(`AUTOMATIC`) or only to users with a subscription (`MANUAL`); a type without a config gets no
notification at all. Ids are user-settable (4-36 characters, `[a-z]([a-z0-9-]{2,34}[a-z0-9])`)
or UUIDs.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from service.emulator.google.datatypes import timestamp

RESOURCE_ID = re.compile(r"^[a-z]([a-z0-9-]{2,34}[a-z0-9])$")
Policy = Literal["AUTOMATIC", "MANUAL"]
State = Literal["UNVERIFIED", "ACTIVE", "INACTIVE"]


@dataclass
class Subscription:
    subscription_id: str
    user_id: str
    data_types: list[str]
    created: datetime
    updated: datetime

    def json(self, parent: str) -> dict[str, Any]:
        return {
            "name": f"{parent}/subscriptions/{self.subscription_id}",
            "user": f"users/{self.user_id}",
            "dataTypes": list(self.data_types),
            "createTime": timestamp(self.created),
            "updateTime": timestamp(self.updated),
        }


@dataclass
class Subscriber:
    project: str
    subscriber_id: str
    endpoint_uri: str
    secret: str
    configs: list[dict[str, Any]]
    created: datetime
    updated: datetime
    state: State = "ACTIVE"
    subscriptions: dict[str, Subscription] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"projects/{self.project}/subscribers/{self.subscriber_id}"

    def policy(self, data_type: str) -> Policy | None:
        for config in self.configs:
            if data_type in config.get("dataTypes", []):
                policy: Policy = config.get("subscriptionCreatePolicy", "AUTOMATIC")
                return policy
        return None

    def json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "endpointUri": self.endpoint_uri,
            "subscriberConfigs": self.configs,
            "endpointAuthorization": {"secretSet": bool(self.secret)},
            "state": self.state,
            "createTime": timestamp(self.created),
            "updateTime": timestamp(self.updated),
        }


def new_id(given: str | None) -> str:
    return given if given else str(uuid.uuid4())


class Subscribers:
    def __init__(self) -> None:
        self._by_id: dict[str, Subscriber] = {}

    def get(self, subscriber_id: str) -> Subscriber | None:
        return self._by_id.get(subscriber_id)

    def put(self, subscriber: Subscriber) -> None:
        self._by_id[subscriber.subscriber_id] = subscriber

    def remove(self, subscriber_id: str) -> None:
        self._by_id.pop(subscriber_id, None)

    def all(self) -> list[Subscriber]:
        return sorted(self._by_id.values(), key=lambda sub: sub.created)
