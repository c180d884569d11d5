"""`GET /v1/<type>` and `GET /v1/<type>/{id}` for a declared `Resource`.

Each request reads in one read-only REPEATABLE READ transaction, so `meta.count` and the page
come from the same snapshot even while the webhook writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from service.api import documents, errors, listing, params, schemas
from service.api.documents import Json, JsonApiResponse
from service.api.paging import CursorPage, SkipPage, encode_cursor, skip_links
from service.api.resource import Relationship, Resource, relationship_label
from service.api.security import require_scope
from service.settings import Settings
from service.state import EngineDep, SettingsDep

Endpoint = Callable[..., Coroutine[Any, Any, JsonApiResponse]]


async def _read_connection(engine: EngineDep) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        async with conn.begin():
            yield conn


ReadConnection = Annotated[AsyncConnection, Depends(_read_connection)]


def add_routes(router: APIRouter, resource: Resource) -> None:
    """Add the list and get routes of `resource` to `router` (mounted at `/v1`)."""
    many, one = schemas.document_models(resource)
    common: dict[str, Any] = {
        "methods": ["GET"],
        "tags": [resource.type],
        "dependencies": [require_scope(resource.scope)],
        "response_class": JsonApiResponse,
        "response_model": None,
    }
    listed: dict[int | str, dict[str, Any]] = {200: {"model": many}, **schemas.ERROR_RESPONSES}
    got: dict[int | str, dict[str, Any]] = {200: {"model": one}, **schemas.ERROR_RESPONSES}
    got[404] = {"model": schemas.ErrorDocument, "description": "No such resource"}
    router.add_api_route(
        f"/{resource.type}",
        _list(resource),
        summary=f"List {resource.type}",
        description=resource.description,
        responses=listed,
        openapi_extra={"parameters": schemas.collection_parameters(resource)},
        operation_id=f"list_{resource.type.replace('-', '_')}",
        **common,
    )
    router.add_api_route(
        f"/{resource.type}/{{id}}",
        _get(resource),
        summary=f"Get one of {resource.type}",
        description=resource.description,
        responses=got,
        operation_id=f"get_{resource.type.replace('-', '_')}",
        **common,
    )


def _list(resource: Resource) -> Endpoint:
    async def list_resources(
        request: Request, conn: ReadConnection, settings: SettingsDep
    ) -> JsonApiResponse:
        return await collection_response(request, conn, settings, resource)

    return list_resources


async def collection_response(
    request: Request,
    conn: AsyncConnection,
    settings: Settings,
    resource: Resource,
    fixed: tuple[params.Condition, ...] = (),
) -> JsonApiResponse:
    """A page of `resource` as this request's query asks, within the `fixed` filters too."""
    query = params.parse_collection_query(
        request.query_params.multi_items(),
        sortable=resource.sortable,
        default_sort=resource.default_sort,
        filters=resource.filters,
        limits=params.Limits(settings.api_page_size_default, settings.api_page_size_max),
    )
    query = replace(query, conditions=(*fixed, *query.conditions))
    rows = await listing.read_page(conn, resource, query)
    links = Links.of(request)
    data = [resource_object(resource, row, links) for row in rows.rows]
    page_links = _page_links(request, query, rows)
    return JsonApiResponse(documents.collection(data, page_links, rows.count))


def _get(resource: Resource) -> Endpoint:
    async def get_resource(id: str, request: Request, conn: ReadConnection) -> JsonApiResponse:
        for name, _ in request.query_params.multi_items():
            raise params.unknown_parameter(name)
        try:
            key = resource.parse_id(id)
        except ValueError:
            raise errors.not_found(resource.type, id) from None
        row = await listing.read_one(conn, resource, key)
        if row is None:
            raise errors.not_found(resource.type, id)
        data = resource_object(resource, row, Links.of(request))
        return JsonApiResponse(documents.single(data, data["links"]["self"]))

    return get_resource


@dataclass(frozen=True, slots=True)
class Links:
    """Absolute URLs under this request's `/v1`, so clients can follow them as given."""

    base: str

    @classmethod
    def of(cls, request: Request) -> Links:
        return cls(str(request.base_url).rstrip("/") + errors.V1)

    def resource(self, type_: str, id_: object) -> str:
        return f"{self.base}/{type_}/{id_}"

    def collection(self, type_: str, query: Mapping[str, str]) -> str:
        return f"{self.base}/{type_}?{urlencode(query)}"


def resource_object(resource: Resource, row: RowMapping, links: Links) -> Json:
    attributes = {name: row[name] for name in resource.attributes}
    related = {r.name: _relationship(r, row, links) for r in resource.relationships}
    self_link = links.resource(resource.type, row[params.ID])
    return documents.resource_object(resource.type, row[params.ID], attributes, related, self_link)


def _relationship(relationship: Relationship, row: RowMapping, links: Links) -> Json:
    ids = row[relationship_label(relationship)]
    if not relationship.many:
        related = None if ids is None else links.resource(relationship.type, ids)
        return documents.to_one(relationship.type, ids, related)
    if relationship.related_filter is None:
        return documents.to_many(relationship.type, ids, None)
    query = {f"filter[{relationship.related_filter}]": str(row[params.ID])}
    return documents.to_many(relationship.type, ids, links.collection(relationship.type, query))


def _page_links(
    request: Request, query: params.CollectionQuery, rows: listing.Rows
) -> dict[str, str | None]:
    kept = [(k, v) for k, v in request.query_params.multi_items() if not k.startswith("page[")]

    def url(page: Mapping[str, str]) -> str:
        """This request's URL with `page`; re-encoded, so links are proper URIs however the
        client spelled the query (brackets unescaped, say)."""
        page = {k: v for k, v in page.items() if k.startswith("page[")}
        return str(request.url.replace(query=urlencode([*kept, *page.items()])))

    links: dict[str, str | None] = {"self": url(dict(request.query_params.multi_items()))}
    page = query.page
    if isinstance(page, CursorPage):
        if rows.next_after is not None and page.limit:
            links["next"] = url(page.parameters(encode_cursor(rows.next_after)))
    elif isinstance(page, SkipPage) and page.size:
        for name, target in skip_links(page, rows.count).items():
            links[name] = url(target.parameters()) if target else None
    return links
