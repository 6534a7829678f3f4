"""The same API over real HTTP: a ``rehber serve`` process on a port, each database."""

from __future__ import annotations

from pathlib import Path

import httpx

from rehber.server.app import Services
from tests.conftest import Database
from tests.support.api import Api
from tests.support.server import running_server


def test_real_server_round_trip_and_access_log(
    database: Database, services: Services, tmp_path: Path
) -> None:
    created = services.accounts.create_account("http").credentials
    log = tmp_path / "server.log"
    with (
        running_server(database.url, database.schema, log) as base,
        httpx.Client(base_url=base) as http,
    ):
        for fmt in ("xml", "json"):
            api = Api(http, created.key, created.hash, fmt)
            group = api.add_group(f"Müşteriler {fmt}")
            contact = api.add_contact(
                name="Ayşe", surname="Yılmaz", gsm="05321234567", groups=[group]
            )
            assert contact["gsm"] == "+905321234567"
            found = api.ok("search-contacts", {"search": {"key": "yılmaz"}}).contacts()
            assert contact["id"] in [c["id"] for c in found]
            assert api.call("get-contact", {"contact": {"id": 999999}}).status == 465
        response = http.post("/v1/get-groups", content=b"<request>")
        assert response.status_code == 400
        assert http.get("/_rehber/openapi.json").json()["openapi"].startswith("3.1")
    text = log.read_text()
    assert " POST /v1/add-group/json 200 " in text
    assert " POST /v1/get-contact 465 " in text
    assert " POST /v1/get-groups 400 " in text
    assert created.key not in text and created.hash not in text
