"""JSON:API 1.0 documents: resource objects, collections, single resources and errors.

Everything here builds plain dicts ready for JSON; `JsonApiResponse` sends them with the
JSON:API media type.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import JSONResponse

MEDIA_TYPE = "application/vnd.api+json"
JSONAPI = {"version": "1.0"}

Json = dict[str, Any]


class JsonApiResponse(JSONResponse):
    media_type = MEDIA_TYPE


def resource_object(
    type_: str,
    id_: object,
    attributes: Mapping[str, object],
    relationships: Mapping[str, Json],
    self_link: str,
) -> Json:
    document: Json = {"type": type_, "id": str(id_), "attributes": jsonable(attributes)}
    if relationships:
        document["relationships"] = dict(relationships)
    document["links"] = {"self": self_link}
    return document


def to_one(type_: str, id_: object, related: str | None) -> Json:
    data = None if id_ is None else {"type": type_, "id": str(id_)}
    return {"data": data, **({"links": {"related": related}} if related else {})}


def to_many(type_: str, ids: Sequence[object] | None, related: str | None) -> Json:
    data = [{"type": type_, "id": str(id_)} for id_ in ids or ()]
    return {"data": data, **({"links": {"related": related}} if related else {})}


def collection(data: Sequence[Json], links: Mapping[str, str | None], count: int) -> Json:
    return {"jsonapi": JSONAPI, "data": list(data), "links": dict(links), "meta": {"count": count}}


def single(data: Json, self_link: str) -> Json:
    return {"jsonapi": JSONAPI, "data": data, "links": {"self": self_link}}


def error_object(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    parameter: str | None = None,
    pointer: str | None = None,
) -> Json:
    error: Json = {"status": str(status), "code": code, "title": title, "detail": detail}
    if parameter is not None:
        error["source"] = {"parameter": parameter}
    elif pointer is not None:
        error["source"] = {"pointer": pointer}
    return error


def errors(objects: Sequence[Json]) -> Json:
    return {"jsonapi": JSONAPI, "errors": list(objects)}


def jsonable(value: Any) -> Any:
    """Database values as JSON: ISO 8601 dates and times, enum values, exact decimals as text."""
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, dt.date | dt.time):  # datetimes too
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value
