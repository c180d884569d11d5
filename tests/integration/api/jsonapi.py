"""The JSON:API 1.0 response schema from the specification's repository, made checkable.

Links are checked to be URIs (`format: uri`), which `jsonschema` leaves to an optional
package; a small RFC 3986 check stands in. Two rewrites of a loaded copy, both faithful:
Python `jsonschema` mis-reads the empty-string key of `patternProperties` (meant: any
name), so it becomes `^`; and the draft-07 keyword
`dependencies`, which a 2020-12 validator ignores, becomes `dependentRequired` /
`dependentSchemas`, its 2019-09 successors.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from tests.conftest import SHARED

SCHEMA_DIR = SHARED / "fitbit" / "jsonapi"

# RFC 3986: scheme ":" then only unreserved, reserved and percent-encoded characters.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_formats = FormatChecker(formats=())


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True  # `format` constrains strings only
    return bool(_URI.fullmatch(value)) and not _BAD_PERCENT.search(value)


_formats.checks("uri")(_is_uri)


@cache
def validator() -> Draft202012Validator:
    schema = _rewritten(json.loads((SCHEMA_DIR / "schema.json").read_text()))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_formats)


def errors_of(document: Any) -> list[str]:
    """Every way `document` breaks the schema, as readable lines (empty when it is valid)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator().iter_errors(document)
    ]


def _rewritten(node: Any) -> Any:
    if isinstance(node, list):
        return [_rewritten(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _rewritten(value) for key, value in node.items()}
    if "" in result.get("patternProperties", {}):
        result["patternProperties"] = {
            ("^" if key == "" else key): value for key, value in result["patternProperties"].items()
        }
    if isinstance(result.get("dependencies"), dict):
        result.update(_split_dependencies(result.pop("dependencies")))
    return result


def _split_dependencies(dependencies: dict[str, Any]) -> dict[str, Any]:
    required = {k: v for k, v in dependencies.items() if isinstance(v, list)}
    schemas = {k: v for k, v in dependencies.items() if not isinstance(v, list)}
    return {"dependentRequired": required, "dependentSchemas": schemas}
