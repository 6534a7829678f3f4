"""Fuzzing the JSON routes from their OpenAPI description (schemathesis, in process).

Schemathesis reads ``GET /_rehber/openapi.json`` from the app and generates requests for all
15 JSON routes, inside the described shapes (positive) and outside them (negative). (Driven
through ``APIOperation.as_strategy`` and hypothesis rather than schemathesis' pytest plugin,
whose lazy-fixture loader does not run under pytest 9.) Every response must: not be a server
error, have a status the description lists for the route, the described content type and a
body that matches the described schema, and carry an HTTP status equal to its body's
``status.code``. Generated bodies get a valid key and hash (when they hold a ``request``
object) so that most requests get past authentication to the decoders and the backend.
The schema-strictness checks (``positive_data_acceptance``, ``negative_data_rejection``) are
left out on purpose: the server is lenient by contract (``spec.md`` "Input tolerance") and
answers 463/465 for valid-looking ids that do not exist.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rehber.server.app import Services, create_app
from rehber.wire.actions import ACTIONS
from tests.reliability.support import build_world
from tests.support.api import Api

EXAMPLES = 10  # per route, generation mode and database
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def credentials(services: Services) -> dict[str, str]:
    created = services.accounts.create_account("fuzz")
    return {"key": created.credentials.key, "hash": created.credentials.hash}


@pytest.fixture
def api_schema(services: Services) -> Any:
    return schemathesis.openapi.from_asgi("/_rehber/openapi.json", create_app(services=services))


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_json_routes_answer_as_described(
    api_schema: Any, credentials: dict[str, str], action: str, mode: GenerationMode
) -> None:
    operation = api_schema[f"/v1/{action}/json"]["POST"]

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def answers_as_described(case: Any) -> None:
        if isinstance(case.body, dict) and isinstance(case.body.get("request"), dict):
            case.body["request"]["authentication"] = dict(credentials)
        response = case.call_and_validate(checks=CHECKS)
        code = orjson.loads(response.content)["response"]["status"]["code"]
        assert response.status_code == code

    answers_as_described()


def test_fuzzing_reaches_the_backend(services: Services, client: Any) -> None:
    """The credentials the fuzzer injects are accepted (else only 401s would be tested)."""
    created = services.accounts.create_account("fuzz")
    api = Api(client, created.credentials.key, created.credentials.hash, "json")
    build_world(api, services, created.account.id)
    assert api.ok("get-groups").groups()
