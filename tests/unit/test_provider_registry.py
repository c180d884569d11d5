"""The provider boundary: the registry's choices from settings, and Fitbit's descriptor."""

from __future__ import annotations

import pytest

from service.errors import ConfigError
from service.providers import registry
from service.providers.errors import UnknownProvider
from service.providers.fitbit import signature
from service.providers.fitbit.webhook import FitbitWebhook
from service.settings import Settings


def _settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_fitbit_is_enabled_by_default() -> None:
    assert [d.name for d in registry.enabled(_settings())] == ["fitbit"]


@pytest.mark.parametrize("value", ["", "fitbit,nobody", "polar"])
def test_unknown_or_no_providers_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="ENABLED_PROVIDERS"):
        registry.enabled(_settings(enabled_providers=value))


def test_unknown_provider_by_name() -> None:
    with pytest.raises(UnknownProvider):
        registry.descriptor("polar")


def test_required_settings_of_the_front_door_include_its_endpoints() -> None:
    settings = _settings(enabled_providers="fitbit fitbit")
    assert registry.required(settings) == ("fitbit_client_id", "fitbit_client_secret")
    assert "fitbit_verification_code" in registry.required(settings, front_door=True)
    assert "fitbit_redirect_uri" in registry.required(settings, front_door=True)


def test_fitbit_descriptor() -> None:
    fitbit = registry.descriptor("fitbit")
    assert fitbit.route_prefix == "/fitbit"
    assert fitbit.calls == {"activities": 2, "body": 2, "foods": 2, "sleep": 1}
    assert (fitbit.rate_rules.limit, fitbit.rate_rules.window_seconds) == (150, 3600.0)
    assert fitbit.granted(["sleep", "profile", "weight"]) == ["body", "sleep"]
    assert registry.collections()["foods"] == "nutrition"


async def test_fitbit_webhook_verification_and_signature() -> None:
    hook = FitbitWebhook("s3cret", "the-code")
    assert hook.verify_query([("verify", "the-code")]) == 204
    assert hook.verify_query([("verify", "wrong")]) == 404
    assert hook.verify_query([("verify", "the-code"), ("verify", "the-code")]) == 404
    assert hook.verify_post({}, b"[]") is None
    body = b'[{"collectionType":"sleep"}]'
    signed = {"x-fitbit-signature": signature.sign(body, "s3cret")}
    assert await hook.authenticate(signed, body) is None
    assert await hook.authenticate({}, body) == "missing"
    assert await hook.authenticate(signed, body + b" ") == "mismatch"
    assert FitbitWebhook("s3cret", "").verify_query([("verify", "")]) == 404
