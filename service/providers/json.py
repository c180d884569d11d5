"""Reading providers' JSON: what a person lacks is absent or empty, a wrong structure is an error.

Shared by the providers' `values` modules, which add their own number, date and time readers.
"""

from __future__ import annotations

from typing import Any

from service.providers.errors import UnexpectedResponse

Obj = dict[str, Any]


def obj(value: Any, what: str) -> Obj:
    if not isinstance(value, dict):
        raise UnexpectedResponse(f"{what}: expected an object, got {type(value).__name__}")
    return value


def inner(item: Obj, key: str) -> Obj:
    """A nested object; an empty one when the provider left it out."""
    value = item.get(key)
    return value if isinstance(value, dict) else {}


def objects(value: Any, what: str) -> list[Obj]:
    """A list of objects; a missing list is an empty one (providers omit what a person lacks)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnexpectedResponse(f"{what}: expected a list, got {type(value).__name__}")
    return [obj(item, what) for item in value]


def text(item: Obj, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def flag(item: Obj, key: str) -> bool | None:
    value = item.get(key)
    return value if isinstance(value, bool) else None
