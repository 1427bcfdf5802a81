"""Schemathesis against our OpenAPI schema: generated requests never get a 5xx, and answers match the schema.

Bounded (a few examples per operation) so that CI stays quick; write operations run with a token so that they
go past authentication into validation and the store.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
STORE = Path(tempfile.mkdtemp(prefix="fuzz-store-"))
APP = create_app(settings_for(REPO_DATA_DIR, STORE, admin_tokens={"fuzz": "fuzz-token"}))
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def started_app():
    from fastapi.testclient import TestClient

    with TestClient(APP):  # runs the lifespan: data loaded, as in production
        yield


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_on_generated_requests(case) -> None:
    # business refusals of schema-valid input (a place nothing resolves, an unknown code) are answers, not bugs:
    # what must hold is no 5xx, only documented statuses, and bodies that match the schema
    case.call_and_validate(headers={"Authorization": "Bearer fuzz-token"}, checks=CHECKS)
