"""What `/openapi.json` says about JSON:API documents and collection parameters.

The models here only describe; responses are built as dicts by `documents`. Each resource gets
its own attribute schema, derived from the SQL types of its attribute expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from service.api import paging, params
from service.api.resource import Resource, nullable, python_type

# The format of a date and time without UTC offset (a person's local time); not one JSON Schema
# defines, so the pattern says it too.
LOCAL_DATE_TIME = "local-date-time"

# Subscripted with values known only at run time, which static typing cannot follow.
_List: Any = list
_Literal: Any = Literal


class ErrorSource(BaseModel):
    parameter: str | None = Field(None, description="the query parameter at fault")
    pointer: str | None = Field(None, description="JSON Pointer to the body member at fault")


class ErrorObject(BaseModel):
    status: str
    code: str = Field(description="e.g. InvalidParameter, Unauthorized, ResourceNotFound")
    title: str
    detail: str
    source: ErrorSource | None = None


class ErrorDocument(BaseModel):
    errors: list[ErrorObject]


class Identifier(BaseModel):
    type: str
    id: str


class RelationshipObject(BaseModel):
    data: Identifier | list[Identifier] | None
    links: dict[str, str] | None = None


class PageLinks(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self")
    first: str | None = Field(None, description="skip-based paging")
    last: str | None = Field(None, description="skip-based paging")
    prev: str | None = Field(None, description="skip-based paging")
    next: str | None = Field(None, description="absent or null on the last page")


class CountMeta(BaseModel):
    count: int = Field(description="resources matching the filters, on every page")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorDocument, "description": "A parameter is wrong; source names it"},
    401: {"model": ErrorDocument, "description": "No valid Bearer token (WWW-Authenticate)"},
    403: {"model": ErrorDocument, "description": "The token lacks the scope"},
    406: {"model": ErrorDocument, "description": "Accept excludes application/vnd.api+json"},
}


_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}


def document_models(resource: Resource) -> tuple[type[BaseModel], type[BaseModel]]:
    """The collection and single-resource document models of `resource`, made once per type:
    OpenAPI names schemas by model name, so two models of one name would be renamed."""
    if resource.type not in _MODELS:
        _MODELS[resource.type] = _document_models(resource)
    return _MODELS[resource.type]


def _document_models(resource: Resource) -> tuple[type[BaseModel], type[BaseModel]]:
    name = "".join(part.capitalize() for part in resource.type.split("-"))
    item = create_model(
        f"{name}Resource",
        type=(_Literal[resource.type], ...),
        id=(str, ...),
        attributes=(_attributes_model(name, resource), ...),
        relationships=(dict[str, RelationshipObject] | None, None),
        links=(dict[str, str], ...),
    )
    many = create_model(
        f"{name}Collection", data=(_List[item], ...), links=(PageLinks, ...), meta=(CountMeta, ...)
    )
    one = create_model(f"{name}Document", data=(item, ...), links=(dict[str, str], ...))
    return many, one


def collection_parameters(resource: Resource) -> list[dict[str, Any]]:
    """OpenAPI parameters of `GET /v1/<type>`: sort, page[...] and the resource's filters."""
    sortable = ", ".join(resource.sortable)
    field = "-?(" + "|".join(re.escape(name) for name in resource.sortable) + ")"
    sort = _parameter(
        params.SORT,
        f"Comma-separated fields, each at most once, `-` for descending; ties are broken by "
        f"id, in the direction of the last field. Fields: {sortable}.",
        schema={"type": "string", "pattern": f"^{field}(,{field})*$"},
        default=resource.default_sort,
    )
    return [sort, *_page_parameters(), *_filter_parameters(resource)]


def _attributes_model(name: str, resource: Resource) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for attribute_name, attribute in resource.attributes.items():
        kind: Any = attribute.schema or python_type(attribute.expression) or Any
        if nullable(attribute.expression):
            kind = kind | None
        fields[attribute_name] = (kind, Field(description=attribute.description or None))
    return create_model(f"{name}Attributes", **fields)


def _page_parameters() -> list[dict[str, Any]]:
    integer = {"type": "integer", "minimum": 0, "maximum": paging.MAX_INTEGER}
    return [
        _parameter(
            paging.PAGE_SIZE,
            "Skip-based paging (the default): items per page, at most the server's "
            "API_PAGE_SIZE_MAX; 0 gives only meta.count.",
            schema=integer,
        ),
        _parameter(
            paging.PAGE_NUMBER,
            "Skip-based paging: the page, from 1.",
            schema={"type": "integer", "minimum": 1, "maximum": paging.MAX_INTEGER, "default": 1},
        ),
        _parameter(
            paging.PAGE_LIMIT,
            "Cursor-based paging: items per page, at most the server's API_PAGE_SIZE_MAX; "
            "0 gives only meta.count. Not with page[size] or page[number].",
            schema=integer,
        ),
        _parameter(paging.PAGE_AFTER, "Cursor-based paging: the opaque cursor of links.next."),
    ]


def _filter_parameters(resource: Resource) -> list[dict[str, Any]]:
    parameters = []
    for f in resource.filters:
        value = _value_schema(f.parse)
        values = {
            "type": "array",
            "items": value,
            "minItems": 1,
            "maxItems": params.MAX_FILTER_VALUES,
        }
        parameters.append(
            _parameter(
                f"filter[{f.name}]",
                f"{f.description} Comma-separated: any of the values.",
                schema=values,
                style={"style": "form", "explode": False},
            )
        )
        for op in params.RANGE_OPERATORS if f.ranged else ():
            parameters.append(
                _parameter(f"filter[{f.name}][{op}]", f"{f.description} ({op}).", schema=value)
            )
    return parameters


# What each filter value parser accepts. No value holds a comma, which separates values.
_VALUE_SCHEMAS: dict[Callable[[str], object], dict[str, Any]] = {
    params.integer: {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
    params.unsigned_64: {"type": "integer", "minimum": 0, "maximum": params.UNSIGNED_64_MAX},
    params.word: {"type": "string", "pattern": "^[^,\\u0000]+$"},
    params.date: {"type": "string", "format": "date"},
    params.timestamp: {"type": "string", "format": "date-time"},
    params.local_timestamp: {
        "type": "string",
        "format": LOCAL_DATE_TIME,
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?$",
    },
}


def _value_schema(parse: Callable[[str], object]) -> dict[str, Any]:
    """A filter value as JSON Schema, so that clients, and fuzzers, can tell a valid one."""
    if isinstance(parse, params.OneOf):
        return {"type": "string", "enum": list(parse.values)}
    return dict(_VALUE_SCHEMAS.get(parse, _VALUE_SCHEMAS[params.word]))


def _parameter(
    name: str,
    description: str,
    *,
    schema: dict[str, Any] | None = None,
    default: str | None = None,
    style: dict[str, Any] | None = None,
) -> dict[str, Any]:
    schema = dict(schema or {"type": "string"})
    if default is not None:
        schema["default"] = default
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        **(style or {}),
    }
