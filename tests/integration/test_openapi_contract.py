"""The OpenAPI document tells the truth: schemathesis calls every operation of the API with the
operator key, with data that fits the document and data that does not, and checks each answer
against it: no server error, no status it does not list, the media type and the schema it names.

Every operation is tried with a bounded number of examples (no shrinking: a failure is reported
as found), and all operations' failures are reported together."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from civicstack.kit.authz import Role
from tests.support.api import assert_problem, bearer, fields_of
from tests.support.web import Site

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES_PER_OPERATION = 30


def failure_of(operation: Any, headers: dict[str, str]) -> str | None:
    """The first answer of this operation that breaks the document, as schemathesis words it."""
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                      operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=cases)
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def call(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        call()
    except FailureGroup as failures:  # collected: every operation's failures in one report
        return f"{operation.label}: {failures}"
    except Exception as error:  # the app's own, re-raised by the in-process transport: a 500
        return f"{operation.label}: server error {error!r}"
    return None


def test_every_answer_of_the_api_is_documented(site: Site) -> None:
    headers = bearer(site.key("contract-probe", Role.ADMIN))
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", site.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 60
    failures = [found for found in (failure_of(op, headers) for op in operations) if found]
    assert not failures, "\n\n".join(failures)


# --- what schemathesis found --------------------------------------------------------------

def integer_path_operations(document: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(method, path, parameter) of every operation that takes an integer in its path."""
    return [(method, path, parameter["name"])
            for path, operations in document["paths"].items()
            for method, operation in operations.items()
            for parameter in operation.get("parameters", [])
            if parameter["in"] == "path" and parameter["schema"].get("type") == "integer"]


def test_a_number_too_large_for_the_database_in_a_path_is_refused_not_a_server_error(
        site: Site) -> None:
    headers = bearer(site.key("large-numbers", Role.ADMIN))
    operations = integer_path_operations(site.client.get("/api/openapi.json").json())
    assert {name for _, _, name in operations} >= {"task_id", "flight_id", "request_id"}
    for method, path, name in operations:
        address = path.replace(f"{{{name}}}", str(2**64)).replace("{", "").replace("}", "")
        response = site.client.request(method, address, headers=headers, json={})
        assert_problem(response, response.status_code)
        assert 400 <= response.status_code < 500, (method, path, response.text)


@pytest.mark.parametrize("period", [{"from": "0001-01-01"}, {"to": "9999-12-31"}])
def test_statistics_for_a_period_at_the_calendars_ends_are_refused_not_a_server_error(
        site: Site, period: dict[str, str]) -> None:
    for path in ("/api/v1/services/statistics", "/api/v1/services/statistics.csv"):
        problem = assert_problem(site.client.get(path, params=period), 422)
        assert fields_of(problem) == set(period)
