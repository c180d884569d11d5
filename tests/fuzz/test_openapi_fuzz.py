"""Schemathesis against `/openapi.json`: every operation the service documents, with and
without a token, answers valid and invalid requests without a server error and as documented
(status code, content type, headers and body schema: every check schemathesis has).

The operations are read from the running service, so routes added later are fuzzed too.
Schemathesis' own pytest plugin does not run under this pytest, so each operation's cases
are drawn from its Hypothesis strategies directly, as the Python API documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, Config, GenerationMode, openapi
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from service.api.paging import (
    PAGE_AFTER,
    PAGE_LIMIT,
    PAGE_SIZE,
    SKIP_PARAMETERS,
)
from service.api.params import SORT
from service.api.schemas import LOCAL_DATE_TIME
from service.settings import Settings
from tests.fuzz.conftest import EXAMPLES, Served

AnyCase = Case[Any]
Operation = APIOperation[Any, Any, Any, Any]

openapi.format(LOCAL_DATE_TIME, st.datetimes().map(lambda value: value.isoformat()))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run, so CI is repeatable
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# Where a schema-valid request is still refused for want of state only the server issues, and
# that refusal is the documented answer: the callback's `state` is a one-time secret from
# `POST /v1/connections`, so a generated one is a 400 however well-formed.
ACCEPTED_REFUSALS = {"/fitbit/callback": [400]}
ACCEPTED = ["2xx", "3xx", 401, 403, 404, 409]
CONFIG = Config.from_dict(
    {
        "operations": [
            {
                "include-path": path,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED + statuses}},
            }
            for path, statuses in ACCEPTED_REFUSALS.items()
        ]
    }
)


def within_query_rules(case: AnyCase, page_size_max: int) -> AnyCase:
    """A valid case, kept valid under the `/v1` query rules that OpenAPI cannot state: skip and
    cursor paging are not combined, a sort names a field once, a page is at most the server's
    configured maximum, and `page[after]` is only ever a cursor the server issued (which
    `test_paging_properties` follows)."""
    query = case.query
    if not query:
        return case
    query.pop(PAGE_AFTER, None)
    if PAGE_LIMIT in query:
        for name in SKIP_PARAMETERS:
            query.pop(name, None)
    for name in (PAGE_SIZE, PAGE_LIMIT):
        if isinstance(query.get(name), int):
            query[name] = min(query[name], page_size_max)
    if isinstance(query.get(SORT), str):
        fields: dict[str, str] = {}
        for key in query[SORT].split(","):
            fields.setdefault(key.removeprefix("-"), key)
        query[SORT] = ",".join(fields.values())
    return case


def fuzz(operation: Operation, page_size_max: int, call: Callable[[AnyCase], object]) -> None:
    """Send `operation` valid and invalid cases; any failed check raises with a curl line."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE).map(
            lambda case: within_query_rules(case, page_size_max)
        ),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @FUZZ
    @given(case=cases)
    def run(case: AnyCase) -> None:
        call(case)

    run()


# Every operation's examples run in one test: allow it more than the suite's 120 s per test on
# a loaded machine (its own run is about a minute).
@pytest.mark.timeout(600)
@pytest.mark.parametrize("authenticated", [True, False], ids=["token", "no-token"])
def test_every_operation_answers_as_documented(
    served: Served, settings: Settings, authenticated: bool, subtests: pytest.Subtests
) -> None:
    schema = openapi.from_url(f"{served.url}/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {served.token}"} if authenticated else {}
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    labels = {operation.label for operation in operations}
    assert {"POST /oauth/token", "GET /v1/notifications", "POST /fitbit/webhook"} <= labels
    for operation in operations:
        with subtests.test(operation=operation.label):
            fuzz(
                operation,
                settings.api_page_size_max,
                lambda case: case.call_and_validate(served.url, headers=headers),
            )
