"""Schema-driven fuzzing with schemathesis against the live server's own /openapi.json.

Every operation gets generated requests (bodies, query strings, headers) as an operator; half of the
ticket-specific requests target a real ticket so that the workflow code, not only the 404 branch,
meets the fuzzed bodies. Checks: no 5xx, documented status codes and content types, and responses
that match the documented schemas.
"""
from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.issue_api.conftest import TOKENS, Api, ticket_body


@pytest.fixture
def live_schema(api: Api):  # type: ignore[no-untyped-def]
    return schemathesis.from_uri(f"{api.url}/openapi.json", base_url=api.url)


schema = schemathesis.from_pytest_fixture("live_schema")
_turn = itertools.count()


@pytest.fixture
def real_ticket_id(api: Api) -> str:
    response = api.call("POST", "/tickets", role="bot", json=ticket_body())
    return response.json()["id"]


@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_api_conforms_to_its_schema_and_never_fails(case, real_ticket_id: str) -> None:  # type: ignore[no-untyped-def]
    if case.path_parameters and "ticket_id" in case.path_parameters and next(_turn) % 2 == 0:
        case.path_parameters["ticket_id"] = real_ticket_id
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKENS['operator']}"}, timeout=30)
