"""What an API client may be allowed to do (OAuth 2.0 scopes, RFC 6749 section 3.3)."""

from __future__ import annotations

from collections.abc import Iterable

READ = "read"
SUBSCRIPTIONS_WRITE = "subscriptions:write"

SCOPES = {
    READ: "read users, notifications, sync requests and synced data",
    SUBSCRIPTIONS_WRITE: "create and delete users' provider subscriptions",
}


class UnknownScope(ValueError):
    """A scope this service does not define; the message names it."""


def parse(texts: Iterable[str]) -> frozenset[str]:
    """Scopes from space- or comma-separated words; refuse any this service does not know."""
    words = {word for text in texts for word in text.replace(",", " ").split()}
    unknown = sorted(words - SCOPES.keys())
    if unknown:
        raise UnknownScope(f"unknown scope {unknown[0]!r}; scopes are: {', '.join(SCOPES)}")
    return frozenset(words)


def render(scopes: Iterable[str]) -> str:
    """The RFC 6749 `scope` value: space-delimited, in a stable order."""
    return " ".join(sorted(scopes))
