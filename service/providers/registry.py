"""The providers this service knows, and the ones a deployment serves (`ENABLED_PROVIDERS`).

Everything outside `providers/` finds a provider here, by the name stored on its rows
(`provider` of sync_request, provider_account, the data tables) or by its route prefix. A new
provider adds its `Descriptor` to `DESCRIPTORS`; nothing else changes shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import httpx

from service.errors import ConfigError
from service.providers.base import Descriptor, Provider
from service.providers.errors import UnknownProvider
from service.providers.fitbit.provider import DESCRIPTOR as FITBIT
from service.providers.google_health.provider import DESCRIPTOR as GOOGLE_HEALTH
from service.settings import Settings

DESCRIPTORS: dict[str, Descriptor] = {d.name: d for d in (FITBIT, GOOGLE_HEALTH)}


def descriptor(name: str) -> Descriptor:
    try:
        return DESCRIPTORS[name]
    except KeyError:
        raise UnknownProvider(f"no provider {name!r}") from None


def enabled(settings: Settings) -> list[Descriptor]:
    """The enabled providers in the order the setting names them (the first is the default)."""
    names = settings.enabled_providers.replace(",", " ").split()
    unknown = [name for name in names if name not in DESCRIPTORS]
    if unknown or not names:
        known = ", ".join(DESCRIPTORS)
        raise ConfigError(f"ENABLED_PROVIDERS must name some of: {known} (got {unknown or names})")
    return [DESCRIPTORS[name] for name in dict.fromkeys(names)]


def required(settings: Settings, *, front_door: bool = False) -> tuple[str, ...]:
    """The settings the enabled providers need: their credentials, and for the process that
    serves their webhooks and callbacks also those endpoints' settings."""
    needed: list[str] = []
    for found in enabled(settings):
        needed += found.serve_settings if front_door else found.credentials
    return tuple(dict.fromkeys(needed))


def collections() -> dict[str, str]:
    """Every known collection and the scope that reads it, for validating requests."""
    return {c: scope for d in DESCRIPTORS.values() for c, scope in d.collections.items()}


@dataclass(frozen=True, slots=True)
class Providers:
    """The enabled providers, live: built once per process (app lifespan, worker startup)."""

    by_name: Mapping[str, Provider]
    default: str

    @classmethod
    def build(cls, settings: Settings, http: httpx.AsyncClient) -> Providers:
        chosen = enabled(settings)
        return cls({d.name: d.build(settings, http) for d in chosen}, chosen[0].name)

    def __getitem__(self, name: str) -> Provider:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownProvider(f"provider {name!r} is not enabled here") from None

    def __iter__(self) -> Iterator[Provider]:
        return iter(self.by_name.values())
