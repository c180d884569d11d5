"""Declarative JSON:API resources: what a type is made of and how clients filter, sort and
follow it. `routes.add_routes` turns one into `GET /v1/<type>` and `GET /v1/<type>/{id}`.

A resource reads from one FROM clause (a table or a join). Attributes and relationships are
SQL expressions over it, so computed values (an aggregate of related rows, say) cost no extra
round trip. Relationship ids are correlated subqueries or columns of the FROM clause.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, FromClause, Select, select
from sqlalchemy.orm import QueryableAttribute

from service.api import params, scopes

# A column of a table, a mapped attribute (`User.id`), or any SQL expression.
Expression = ColumnElement[Any] | QueryableAttribute[Any]
Where = Callable[[str, tuple[Any, ...]], ColumnElement[bool]]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


@dataclass(frozen=True, slots=True)
class Attribute:
    expression: Expression
    description: str = ""
    schema: Any = None  # the type OpenAPI shows, when the SQL type says too little (JSON)


@dataclass(frozen=True, slots=True)
class Filter:
    """`filter[name]=a,b` (any of the values) and, when `ranged`, `filter[name][gte]=v` etc."""

    name: str
    where: Where  # (operator, values) -> condition; operator "in" or one of RANGE_OPERATORS
    parse: Callable[[str], object] = params.word
    ranged: bool = False
    description: str = ""

    @classmethod
    def on(
        cls,
        name: str,
        expression: Expression,
        parse: Callable[[str], object] = params.word,
        *,
        ranged: bool = False,
        description: str = "",
    ) -> Filter:
        """A filter comparing one column (or expression) with the values given."""
        return cls(name, partial(compare, element(expression)), parse, ranged, description)


def compare(expression: ColumnElement[Any], op: str, values: tuple[Any, ...]) -> Any:
    if op == "in":
        return expression.in_(values)
    return _COMPARE[op](expression, values[0])


@dataclass(frozen=True, slots=True)
class Relationship:
    """Resource linkage to another type.

    `ids` is an id of the target (to-one) or an array of them (`many`), correlated with the
    resource's row. A to-many relationship's `related` link is the target's collection filtered
    by `related_filter` = this resource's id; a to-one's is the target itself.
    """

    name: str
    type: str
    ids: Expression
    many: bool = False
    related_filter: str | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class Resource:
    type: str  # the JSON:API type and the URL segment: plural, dash-separated
    source: FromClause
    id: Expression
    attributes: Mapping[str, Attribute]
    sortable: tuple[str, ...] = (params.ID,)
    default_sort: str = params.ID
    filters: tuple[Filter, ...] = ()
    relationships: tuple[Relationship, ...] = ()
    scope: str = scopes.READ
    description: str = ""
    parse_id: Callable[[str], object] = params.integer

    def __post_init__(self) -> None:
        """Mistakes in a description fail at import, not on a client's request."""
        reserved = {params.ID, "type"} & set(self.attributes)
        if reserved:
            raise ValueError(f"{self.type}: JSON:API reserves the names {sorted(reserved)}")
        unknown = set(self.sortable) - set(self.attributes) - {params.ID}
        if unknown:
            raise ValueError(f"{self.type}: sortable fields {sorted(unknown)} are not attributes")
        if self.scope not in scopes.SCOPES:
            raise ValueError(f"{self.type}: unknown scope {self.scope!r}")
        params.parse_sort(self.default_sort, self.sortable)

    def expression(self, name: str) -> ColumnElement[Any]:
        """The SQL of a sortable field: the id or an attribute."""
        return element(self.id if name == params.ID else self.attributes[name].expression)

    def select(self) -> Select[Any]:
        """Every column a resource object needs, labelled by attribute name."""
        columns = [
            element(self.id).label(params.ID),
            *(element(a.expression).label(name) for name, a in self.attributes.items()),
            *(element(r.ids).label(relationship_label(r)) for r in self.relationships),
        ]
        return select(*columns).select_from(self.source)


def relationship_label(relationship: Relationship) -> str:
    return f"rel__{relationship.name}"


def element(expression: Expression) -> ColumnElement[Any]:
    if isinstance(expression, QueryableAttribute):
        return expression.__clause_element__()
    return expression


def nullable(expression: Expression) -> bool:
    """Whether an expression may be NULL; only a NOT NULL column is known not to be."""
    column = element(expression)
    return not isinstance(column, Column) or bool(column.nullable)


def python_type(expression: Expression) -> type[Any] | None:
    """The Python type of an expression's values, when its SQL type tells (JSON does not)."""
    sql_type = element(expression).type
    if isinstance(sql_type, JSON):
        return None
    try:
        kind: type[Any] = sql_type.python_type
    except NotImplementedError:
        return None
    return kind
