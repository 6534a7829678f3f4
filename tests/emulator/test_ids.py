"""``--id-start N``: the first custom field, group and contact each get id N (docs/testing.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from rehber.cli.main import main
from rehber.server.app import build_services, create_app
from rehber.testing import EmulatorControl, emulator_server
from tests.conftest import Database

FIXTURE = {
    "custom_fields": ["Segment", "Doğum tarihi"],
    "groups": [{"name": "Müşteriler", "children": [{"name": "VIP"}]}, {"name": "Tedarikçiler"}],
    "contacts": [{"ref": "a", "name": "Ayşe"}, {"ref": "m", "name": "Mehmet"}],
}
EXPECTED = {
    "custom_fields": {"Segment": 5000, "Doğum tarihi": 5001},
    "groups": {"Müşteriler": 5000, "Müşteriler/VIP": 5001, "Tedarikçiler": 5002},
    "contacts": {"a": 5000, "m": 5001},
    "contact_ids": [5000, 5001],
}


def _seeded_ids(control: EmulatorControl) -> dict[str, object]:
    account = control.create_account()
    ids = account.seed(FIXTURE)
    ids.pop("account_id")
    return ids


@pytest.fixture
def control_5000(database: Database) -> Iterator[EmulatorControl]:
    services = build_services(database.settings(emulator=True, id_start=5000))
    with TestClient(create_app(services=services)) as client:
        yield EmulatorControl(client)
    services.store.dispose()


def test_id_start_gives_documented_ids(control_5000: EmulatorControl) -> None:
    assert _seeded_ids(control_5000) == EXPECTED
    assert control_5000.reset(everything=True) == {"reset": "all", "next_id": 5000}
    assert _seeded_ids(control_5000) == EXPECTED  # and again after a full reset


def test_vendor_api_ids_start_there_too(control_5000: EmulatorControl) -> None:
    account = control_5000.create_account()
    group = account.http.call("add-group", {"group": {"name": "G"}})["group"]["id"]
    contact = account.http.call("add-contact", {"contact": {"name": "C"}})["contact"]["id"]
    assert (group, contact) == (5000, 5000)


def test_id_start_is_ignored_on_a_database_with_accounts(database: Database) -> None:
    first = build_services(database.settings(emulator=True))
    first.accounts.create_account("existing")
    first.store.dispose()
    services = build_services(database.settings(emulator=True, id_start=5000))
    with TestClient(create_app(services=services)) as client:
        ids = _seeded_ids(EmulatorControl(client))
        assert ids["contact_ids"] == [1, 2]
        assert EmulatorControl(client).reset(everything=True)["next_id"] == 5000
        assert _seeded_ids(EmulatorControl(client)) == EXPECTED
    services.store.dispose()


def test_real_server_with_id_start(tmp_path: Path) -> None:
    with (
        emulator_server(tmp_path, id_start=5000) as base_url,
        httpx.Client(base_url=base_url) as http,
    ):
        assert _seeded_ids(EmulatorControl(http)) == EXPECTED
    assert "emulator mode" in (tmp_path / "rehber-emulator.log").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--id-start", "5"], "--id-start needs --emulator"),
        (["--emulator", "--workers", "2"], "--emulator runs one worker"),
        (["--emulator", "--id-start", "0"], "0 is not in the range x>=1"),
    ],
)
def test_serve_rejects_bad_emulator_options(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == 2
    assert message in result.output
