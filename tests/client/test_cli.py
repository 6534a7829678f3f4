"""``rehber groups …`` / ``rehber contacts …`` through click's CliRunner, against a real server."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rehber.cli.main import main
from tests.client.conftest import LiveServer

ENV_NAMES = ("REHBER_API_KEY", "REHBER_API_HASH", "REHBER_BASE_URL")


@dataclass
class Cli:
    """``rehber`` as one fresh account of the live server, credentials in the environment."""

    runner: CliRunner
    env: dict[str, str]
    account_id: int
    server: LiveServer

    def __call__(self, *args: str, ok: bool = True, **env: str) -> Result:
        result = self.runner.invoke(main, list(args), env={**self.env, **env})
        if ok:
            assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def field(self, name: str) -> int:
        return self.server.services.accounts.create_field(self.account_id, name).id


@pytest.fixture
def cli(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Cli:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    created = live_server.services.accounts.create_account("cli")
    env = {
        "REHBER_BASE_URL": live_server.base_url,
        "REHBER_API_KEY": created.credentials.key,
        "REHBER_API_HASH": created.credentials.hash,
    }
    return Cli(CliRunner(), env, created.account.id, live_server)


def test_groups_create_list_delete(cli: Cli) -> None:
    top = cli.json("groups", "create", "Müşteriler")
    assert top == {"id": top["id"], "name": "Müşteriler", "parent": None}
    created = cli("groups", "create", "VIP", "--parent", str(top["id"]), "--format", "xml")
    vip_id = int(created.stdout.split("\t")[0])
    assert created.stdout == f"{vip_id}\tVIP\n"

    assert cli("groups", "list").stdout == f"{top['id']}\tMüşteriler\t0\n  {vip_id}\tVIP\t0\n"
    listed = cli.json("groups", "list")
    assert listed[0]["children"][0] == {
        "id": vip_id,
        "name": "VIP",
        "count": 0,
        "parent": top["id"],
        "children": [],
    }

    assert cli("groups", "delete", str(top["id"])).stdout == f"deleted group {top['id']}\n"
    assert cli.json("groups", "list") == []


def test_contacts_add_get_search(cli: Cli) -> None:
    field = cli.field("Doğum tarihi")
    group = cli.json("groups", "create", "G")["id"]
    added = cli.json(
        "contacts", "add", "--name", "Ayşe", "--surname", "Yılmaz", "--gsm", "0532 123 45 67",
        "--field", f"{field}=27/09/2024", "--group", str(group),
    )  # fmt: skip
    assert added["gsm"] == "+905321234567"
    assert added["custom_fields"] == [{"id": field, "value": "27/09/2024"}]
    assert added["groups"] == [group]

    assert cli.json("contacts", "get", str(added["id"])) == added
    text = cli("contacts", "get", str(added["id"]), "--format", "xml").stdout
    assert f"field:{field}: 27/09/2024" in text and "gsm: +905321234567" in text

    assert cli("contacts", "search", "yılmaz").stdout == (
        f"{added['id']}\tAyşe\tYılmaz\t\t+905321234567\n"
    )
    assert cli.json("contacts", "search", "0532123") == [added]
    assert cli.json("contacts", "search", "bulunmayan") == []


def test_api_errors_are_one_line_without_credentials(cli: Cli) -> None:
    result = cli("contacts", "get", "987654321", ok=False)
    assert result.exit_code == 1
    assert result.stderr == "Error: 465 Kişi bulunamadı. (POST /v1/get-contact/json)\n"

    wrong = cli("groups", "list", "--hash", "0" * 64, "--format", "xml", ok=False)
    assert wrong.exit_code == 1
    assert wrong.stderr == "Error: 401 Üyelik bilgileri hatalı (POST /v1/get-groups)\n"
    assert cli.env["REHBER_API_KEY"] not in wrong.output

    short = cli("contacts", "search", "ab", ok=False)
    assert "471 Arama terimi en az 3 karakter olmalıdır." in short.stderr


def test_missing_credentials_and_bad_options(cli: Cli) -> None:
    result = cli("groups", "list", ok=False, REHBER_API_KEY="")
    assert result.exit_code == 1 and "No API key" in result.stderr
    bad_field = cli("contacts", "add", "--name", "x", "--field", "nope", ok=False)
    assert bad_field.exit_code == 2 and "ID=VALUE" in bad_field.stderr
    bad_url = cli("groups", "list", "--base-url", "nowhere", ok=False)
    assert bad_url.exit_code == 2 and "base_url" in bad_url.stderr


# -- CSV import and export ----------------------------------------------------------------


def _write_csv(path: Path, rows: list[list[str]], delimiter: str, bom: bool) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
        csv.writer(out, delimiter=delimiter).writerows(rows)
    return path


def _people(count: int, field: int) -> Iterator[list[str]]:
    for i in range(count):
        yield ["", f"Kişi {i}", "Şahin; Öztürk" if i % 2 else "", "", f"0532{i:07d}", f"not {i}"]


@pytest.mark.parametrize(("delimiter", "bom"), [(";", True), (",", False)])
def test_import_streams_batches_and_reports(
    cli: Cli, tmp_path: Path, delimiter: str, bom: bool
) -> None:
    field = cli.field("Not")
    group = cli.json("groups", "create", "İthalat")["id"]
    header = ["id", "Name", "surname", "email", "gsm", f"field:{field}"]
    rows = [header, *_people(1200, field)]
    rows[5][4] = "12"  # invalid number: 466
    rows[700] = ["", "", "", "", "", ""]  # blank: skipped
    rows[900][1:5] = ["", "", "", ""]  # only a custom field: 472
    rows[901] = [*rows[901], "extra"]  # one cell too many: rejected before sending
    source = _write_csv(tmp_path / "kişiler.csv", rows, delimiter, bom)

    result = cli(
        "contacts", "import", str(source), "--group", str(group), "--batch-size", "500", ok=False
    )

    assert result.exit_code == 3, result.output
    assert result.stdout == (
        "added 1196, failed 3, skipped 1 blank row(s)\n"
        "  422 İstek içerisindeki değerler doğrulanamadı.: 1\n"
        "  466 Hatalı numara.: 1\n"
        "  472 Ad, soyad, cep telefonu, email alanlarından en az biri dolu olmalıdır.: 1\n"
        f"failed rows: {tmp_path / 'kişiler.rejects.csv'}\n"
    )
    assert "importing" in result.stderr  # the progress bar
    rejects_text = (tmp_path / "kişiler.rejects.csv").read_text("utf-8-sig" if bom else "utf-8")
    rejected = list(csv.reader(io.StringIO(rejects_text), delimiter=delimiter))
    assert rejected[0] == [*header, "line", "error_code", "error_message"]
    # Rows refused before sending are written when read; the rest when their batch returns.
    assert sorted((r[1], r[-3], r[-2]) for r in rejected[1:]) == [
        ("", "901", "472"),
        ("Kişi 4", "6", "466"),
        ("Kişi 900", "902", "422"),
    ]
    assert [r[5] for r in rejected if r[-3] == "901"] == ["not 899"]

    exported = cli("contacts", "export", "--group", str(group)).stdout
    back = list(csv.reader(io.StringIO(exported)))
    assert back[0] == ["id", "name", "surname", "email", "gsm", f"field:{field}"]
    assert len(back) == 1 + 1196
    assert back[1][1:] == ["Kişi 0", "", "", "+905320000000", "not 0"]
    assert back[2][2] == "Şahin; Öztürk"


def test_import_json_summary_and_clean_exit(cli: Cli, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "a.csv", [["name", "gsm"], ["Ayşe", "05321234567"]], ",", False)
    summary = json.loads(cli("contacts", "import", str(source), "--json").stdout)
    assert summary == {
        "added": 1,
        "failed": 0,
        "failed_by_code": {},
        "skipped_blank": 0,
        "rejects": None,
    }
    assert not (tmp_path / "a.rejects.csv").exists()
    assert cli.json("contacts", "search", "ayşe")[0]["gsm"] == "+905321234567"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"name,phone\nA,1\n", "unknown column(s): phone"),
        (b"id\n1\n", "no contact columns"),
        (b"name;name\nA;B\n", "appears twice"),
        (b"name\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_import_refuses_files_it_cannot_read(
    cli: Cli, tmp_path: Path, content: bytes, problem: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    result = cli("contacts", "import", str(source), ok=False)
    assert result.exit_code in (1, 2) and problem in result.stderr
    assert cli.json("contacts", "search", "aaa") == []


def test_import_stops_on_a_failing_batch(cli: Cli, tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "a.csv", [["name"], ["Ayşe"], ["Mehmet"]], ",", False)
    result = cli("contacts", "import", str(source), "--hash", "0" * 64, ok=False)
    assert result.exit_code == 1
    assert "401 Üyelik bilgileri hatalı" in result.stderr
    assert "stopped after adding 0 contact(s)" in result.stderr


def test_export_options(cli: Cli) -> None:
    note, segment = cli.field("Not"), cli.field("Segment")
    group = cli.json("groups", "create", "G")["id"]
    for name, fields in (("A", [f"{note}=n"]), ("B", [f"{segment}=s"]), ("C", [])):
        args = [a for f in fields for a in ("--field", f)]
        cli("contacts", "add", "--name", name, "--group", str(group), *args)

    discovered = cli("contacts", "export", "--group", str(group), "--page-size", "2").stdout
    assert discovered.splitlines() == [
        f"id,name,surname,email,gsm,field:{note},field:{segment}",
        *[line for line in discovered.splitlines()[1:]],
    ]
    assert [line.split(",")[1:] for line in discovered.splitlines()[1:]] == [
        ["A", "", "", "", "n", ""],
        ["B", "", "", "", "", "s"],
        ["C", "", "", "", "", ""],
    ]
    chosen = cli(
        "contacts", "export", "--group", str(group), "--field", str(segment),
        "--delimiter", ";", "--bom", "--format", "xml",
    ).stdout_bytes  # fmt: skip
    assert chosen.startswith(b"\xef\xbb\xbfid;name;surname;email;gsm;field:")
    lines = [
        json.loads(line)
        for line in cli("contacts", "export", "--group", str(group), "--json").stdout.splitlines()
    ]
    assert [c["name"] for c in lines] == ["A", "B", "C"]
    missing = cli("contacts", "export", "--group", "987654321", ok=False)
    assert "463" in missing.stderr
