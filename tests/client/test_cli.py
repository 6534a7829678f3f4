"""``rehber groups …`` / ``rehber contacts …`` through click's CliRunner, against a real server."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from rehber.cli.main import main
from rehber.testing import EmulatorAccount
from tests.client.conftest import LiveServer
from tests.client.scripted import Drop, Reply, ScriptedServer, Step
from tests.support.server import running_server

ENV_NAMES = ("REHBER_API_KEY", "REHBER_API_HASH", "REHBER_BASE_URL")


@dataclass
class Cli:
    """``rehber`` as one fresh account of the live server, credentials in the environment."""

    runner: CliRunner
    env: dict[str, str]
    account_id: int
    server: LiveServer
    # The account's control calls (faults, journal) on an emulator server.
    account: EmulatorAccount | None = None

    def at(self, base_url: str) -> Cli:
        """The same account, talking to another server (on the same database)."""
        return replace(self, env={**self.env, "REHBER_BASE_URL": base_url})

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


@pytest.fixture
def emulated(emulator_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """``rehber`` as a fresh account of a real server in emulator mode (faults, journal)."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    assert emulator_server.control is not None
    account = emulator_server.control.create_account(name="cli-import")
    env = {
        "REHBER_BASE_URL": emulator_server.base_url,
        "REHBER_API_KEY": account.key,
        "REHBER_API_HASH": account.hash,
    }
    yield Cli(CliRunner(), env, account.account_id, emulator_server, account)
    account.clear_faults()


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
    progress, *message = result.stderr.splitlines()
    assert progress.startswith("stopped ")  # the progress bar's last state
    assert message == [
        "Error: 401 Üyelik bilgileri hatalı (POST /v1/add-contacts/json)",
        "stopped after adding 0 contact(s) from the rows before line 2; "
        "none of the batch of lines 2-3 was stored.",
        "Resume with:",
        f"  rehber contacts import {source} --from-line 2",
    ]


# -- import: batches the server refuses for now, and answers that are lost ----------------


def _people_rows(count: int) -> list[list[str]]:
    return [["name", "gsm"], *([f"Kişi {i}", f"0532{i:07d}"] for i in range(count))]


def _stored(cli: Cli, group: int) -> list[str]:
    """The names in ``group``, one per stored contact (so a duplicate shows twice)."""
    out = cli("contacts", "export", "--group", str(group), "--json").stdout
    return sorted(json.loads(line)["name"] for line in out.splitlines())


def _add_contacts_calls(cli: Cli) -> list[dict[str, Any]]:
    assert cli.account is not None
    return cli.account.requests("add-contacts")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_import_resends_a_batch_refused_with_429_or_503(
    emulated: Cli, tmp_path: Path, fmt: str
) -> None:
    assert emulated.account is not None
    group = emulated.json("groups", "create", "Yeniden")["id"]
    rows = _people_rows(25)
    source = _write_csv(tmp_path / "a.csv", rows, ",", False)
    # The first add-contacts call answers 429, the second 503, then the API works again.
    emulated.account.fault("add-contacts", code=429, count=1)
    emulated.account.fault("add-contacts", code=503, count=1)

    result = emulated(
        "contacts", "import", str(source), "--group", str(group), "--batch-size", "10",
        "--format", fmt,
    )  # fmt: skip

    assert result.stdout == "added 25, failed 0\n"
    waits = [line for line in result.stderr.splitlines() if line.startswith("add-contacts")]
    assert len(waits) == 2
    assert re.fullmatch(
        r"add-contacts for lines 2-11: 429 Çok fazla istek gönderildi\.; "
        r"waiting 0\.[45] s before attempt 2 of 5",
        waits[0],
    )
    assert re.fullmatch(
        r"add-contacts for lines 2-11: 503 Sunucu geçici olarak servis dışı; "
        r"waiting (0\.[89]|1\.0) s before attempt 3 of 5",
        waits[1],
    )
    calls = _add_contacts_calls(emulated)
    assert [c["status"] for c in calls] == [429, 503, 200, 200, 200]
    assert calls[0]["request"] == calls[1]["request"] == calls[2]["request"]  # the same batch
    assert _stored(emulated, group) == sorted(name for name, _ in rows[1:])


def test_import_gives_up_after_its_attempts_and_resumes_where_it_says(
    emulated: Cli, tmp_path: Path
) -> None:
    group = emulated.json("groups", "create", "Sınırlı")["id"]
    rows = _people_rows(25)
    rows[4][1] = "12"  # line 5, in the first batch: 466
    rows[16][1] = "12"  # line 17, in the batch that is refused: 466 once it is sent
    source = _write_csv(tmp_path / "a.csv", rows, ",", False)
    rejects = tmp_path / "a.rejects.csv"
    args = ["contacts", "import", str(source), "--group", str(group), "--batch-size", "10"]
    # The same database behind a second real server that allows this key one request, then
    # none for 1000 s: the first batch gets in, the second is answered 429 every time.
    server = emulated.server
    limit = ("--rate-limit", "0.001", "--rate-limit-burst", "1")
    log = tmp_path / "limited.log"
    with running_server(server.database_url, server.schema, log, *limit) as limited:
        stopped = emulated.at(f"{limited}/v1/")(*args, "--attempts", "2", ok=False)

    assert stopped.exit_code == 1
    wait, progress, *message = stopped.stderr.splitlines()[-6:]
    assert progress.startswith("stopped ") and "9 added, 1 failed" in progress
    assert wait.startswith("add-contacts for lines 12-21: 429 Çok fazla istek gönderildi.; ")
    assert wait.endswith(" s before attempt 2 of 2")
    assert message == [
        "Error: 429 Çok fazla istek gönderildi. (POST /v1/add-contacts/json)",
        "stopped after adding 9 contact(s) from the rows before line 12 "
        f"(1 rejected, in {rejects}); none of the batch of lines 12-21 was stored after "
        "2 attempts.",
        "Resume with:",
        f"  rehber contacts import {source} --group {group} --from-line 12",
    ]
    assert _stored(emulated, group) == sorted(name for name, gsm in rows[1:11] if gsm != "12")

    resumed = emulated(*args, "--from-line", "12", ok=False)
    assert resumed.exit_code == 3
    assert resumed.stdout == (
        f"added 14, failed 1\n  466 Hatalı numara.: 1\nfailed rows: {rejects}\n"
    )
    assert _stored(emulated, group) == sorted(name for name, gsm in rows[1:] if gsm != "12")
    rejected = list(csv.reader(io.StringIO(rejects.read_text("utf-8"))))
    assert rejected == [
        ["name", "gsm", "line", "error_code", "error_message"],
        ["Kişi 3", "12", "5", "466", "Hatalı numara."],
        ["Kişi 15", "12", "17", "466", "Hatalı numara."],
    ]


def test_import_never_resends_a_batch_whose_answer_was_lost(emulated: Cli, tmp_path: Path) -> None:
    assert emulated.account is not None
    group = emulated.json("groups", "create", "Kayıp")["id"]
    rows = _people_rows(25)
    source = _write_csv(tmp_path / "a.csv", rows, ",", False)
    # The first batch is stored, but its answer arrives cut in half.
    emulated.account.fault("add-contacts", truncate=True, count=1)
    args = ["contacts", "import", str(source), "--group", str(group), "--batch-size", "10"]

    stopped = emulated(*args, ok=False)

    assert stopped.exit_code == 1
    assert stopped.stderr.splitlines()[-5:] == [
        "stopped after adding 0 contact(s) from the rows before line 2.",
        "the batch of lines 2-11 got no readable answer: the server may have stored some or "
        "all of its rows, so it was not sent again (that could add them twice).",
        "Check whether those rows arrived, then resume with:",
        f"  rehber contacts import {source} --group {group} --from-line 2    (if they did not)",
        f"  rehber contacts import {source} --group {group} --from-line 12    (if they did)",
    ]
    assert [c["status"] for c in _add_contacts_calls(emulated)] == [200]  # sent once
    assert _stored(emulated, group) == sorted(name for name, _ in rows[1:11])

    emulated(*args, "--from-line", "12")
    assert _stored(emulated, group) == sorted(name for name, _ in rows[1:])


def _scripted_import(base_url: str, source: Path, *options: str) -> Result:
    env = {"REHBER_BASE_URL": base_url, "REHBER_API_KEY": "k" * 32, "REHBER_API_HASH": "h" * 64}
    return CliRunner().invoke(main, ["contacts", "import", str(source), *options], env=env)


BULK_OK = Reply.envelope(
    200,
    payload=',"contacts":['
    '{"id":1,"gsm":"","status":{"code":200,"message":"İşlem başarılı"}},'
    '{"id":2,"gsm":"","status":{"code":200,"message":"İşlem başarılı"}}]',
)


@pytest.mark.parametrize(
    "lost",
    [Drop(), Reply(503, b"<html>proxy: upstream went away</html>")],
    ids=["dropped-after-sending", "503-without-envelope"],
)
def test_import_does_not_resend_what_may_have_been_stored(tmp_path: Path, lost: Step) -> None:
    source = _write_csv(tmp_path / "a.csv", [["name"], ["Ayşe"], ["Mehmet"]], ",", False)
    with ScriptedServer([lost, BULK_OK]) as server:
        result = _scripted_import(server.base_url, source)
    assert result.exit_code == 1
    assert len(server.received) == 1
    assert "the batch of lines 2-3 got no readable answer" in result.stderr
    assert "waiting" not in result.stderr


def test_import_waits_as_long_as_retry_after_says(tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "a.csv", [["name"], ["Ayşe"], ["Mehmet"]], ",", False)
    limited = Reply.envelope(429, "Çok fazla istek gönderildi.", Retry_After="0")
    with ScriptedServer([limited, BULK_OK]) as server:
        result = _scripted_import(server.base_url, source)
    assert result.exit_code == 0, result.output
    assert result.stdout == "added 2, failed 0\n"
    assert (
        "add-contacts for lines 2-3: 429 Çok fazla istek gönderildi.; "
        "waiting 0.0 s before attempt 2 of 5"
    ) in result.stderr
    first, second = server.received
    assert first.body == second.body


def test_import_resends_when_it_could_not_connect(tmp_path: Path) -> None:
    source = _write_csv(tmp_path / "a.csv", [["name"], ["Ayşe"], ["Mehmet"]], ",", False)
    with ScriptedServer([]) as server:
        base_url = server.base_url  # closed on leaving: nothing listens there any more
    result = _scripted_import(base_url, source, "--attempts", "2")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("add-contacts for lines 2-3: Connection error (ConnectError")
        and line.endswith("before attempt 2 of 2")
        for line in lines
    ), result.stderr
    assert lines[-3:] == [
        "stopped after adding 0 contact(s) from the rows before line 2; "
        "none of the batch of lines 2-3 was stored after 2 attempts.",
        "Resume with:",
        f"  rehber contacts import {source} --from-line 2",
    ]


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
