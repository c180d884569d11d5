"""Counting the calls made to a provider, by endpoint template, for `/metrics`.

The template keeps the metric's label set small and free of personal data: path segments that
name a person, a day or a subscription become placeholders.
"""

from __future__ import annotations

import re

from service import metrics

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A segment after one of these names one thing (a user, a subscriber, a subscription...).
_NAMED = re.compile(
    r"/(user|users|projects|subscribers|subscriptions|apiSubscriptions)/(?!-/|-$|me/|me$)[^/]+"
)


def template(path: str) -> str:
    """`/1/user/228TQ4/activities/date/2026-11-20.json` →
    `/1/user/{id}/activities/date/{date}.json`."""
    path = path.split("?", 1)[0]
    return _NAMED.sub(r"/\1/{id}", _DATE.sub("{date}", path))


def record(provider: str, method: str, path: str, status: int | str) -> None:
    """One call made, answered with `status` ('error': no answer)."""
    metrics.provider_call(provider, f"{method} {template(path)}", status)
