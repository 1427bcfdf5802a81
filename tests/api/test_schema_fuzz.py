"""Schemathesis against our OpenAPI schema: generated requests never get a 5xx, and answers match the schema.

Each check can fail. The routes that answer a JSON object they build have a response model (geo_service.api.schemas
and the routers' own): an answer that does not match it fails ``response_schema_conformance``, or, when FastAPI
itself refuses to send it, ``not_a_server_error`` (the GeoJSON, CSV, TileJSON and tile bodies, written as bytes, are
not described field by field). Each operation documents only the statuses it can answer (geo_service.api.errors),
so a refusal it does not announce fails ``status_code_conformance``. Write operations run with a token so that
they go past authentication into validation and the store.

Bounded so that CI stays quick, about 90 s at most for both backends: max_examples=50 per operation and backend
took 65 s for the two (45 operations; 75 examples took 75 to 82 s). The coverage routes under random parameters
are most of it: each new set of parameters is a new computation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from geo_service.main import create_app
from geo_service.settings import REPO_DATA_DIR
from tests.conftest import settings_for

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


class BackendSwitch:
    """The ASGI app schemathesis calls: it forwards to the app started for the backend under test (schemathesis
    loads the schema at import time, before any fixture could choose a backend)."""

    def __init__(self, target: ASGIApp) -> None:
        self.target = target

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the started app's lifespan belongs to its fixture, not to each call
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await self.target(scope, receive, send)


# the OpenAPI document does not depend on the store, and serving it does not open one; were it opened, the file
# would be made in the temporary folder, not in the working directory (the repository)
NEVER_OPENED = Path(tempfile.gettempdir()) / "geo-service-schema-only.sqlite3"
SWITCH = BackendSwitch(create_app(settings_for(REPO_DATA_DIR, f"sqlite:///{NEVER_OPENED}")))
schema = schemathesis.openapi.from_asgi("/openapi.json", SWITCH)


@pytest.fixture(scope="module")
def started_app(new_store: Callable[[], str]) -> Iterator[None]:
    app = create_app(settings_for(REPO_DATA_DIR, new_store(), admin_tokens={"fuzz": "fuzz-token-for-schemathesis"}))
    with TestClient(app):  # runs the lifespan: data loaded, as in production
        SWITCH.target = app
        yield


@schema.parametrize()
# No health check suppressed: none fires (data generation is quick, no filter discards much). deadline=None: a
# coverage computation under new parameters takes a few hundred milliseconds, which is no bug.
@settings(max_examples=50, deadline=None)
def test_api_never_fails_on_generated_requests(case, started_app: None) -> None:
    # business refusals of schema-valid input (a place nothing resolves, an unknown code) are answers, not bugs:
    # what must hold is no 5xx, only documented statuses, and bodies that match the schema
    case.call_and_validate(headers={"Authorization": "Bearer fuzz-token-for-schemathesis"}, checks=CHECKS)
