"""The pytest plugin (entry point ``pytest11``), run the way users run it: through pytester,
alone and under ``pytest -n 2``, with a server per worker or one shared server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from rehber.testing import emulator_server

ISOLATION_TESTS = """
import os
import pytest


@pytest.mark.parametrize("n", range(6))
def test_faults_stay_with_their_account(rehber_account, rehber_server, n):
    with open(os.environ["URL_LOG"], "a") as log:
        log.write(rehber_server.base_url + "\\n")
    ids = rehber_account.seed({"groups": [{"name": f"G{n}"}]})
    rehber_account.fault("*", code=503, count=1000)
    statuses = [rehber_account.http.call("get-groups").status for _ in range(10)]
    assert statuses == [503] * 10
    rehber_account.clear_faults()
    groups = rehber_account.http.call("get-groups")["groups"]
    assert [g["id"] for g in groups] == [ids["groups"][f"G{n}"]]
    assert all(e["account_id"] == rehber_account.account_id for e in rehber_account.requests())
"""


def test_fixtures_work_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import asyncio


        def test_account(rehber_account):
            assert rehber_account.base_url.startswith("http://127.0.0.1:")
            assert len(rehber_account.key) == 32 and len(rehber_account.hash) == 64
            assert rehber_account.client is not None
            ids = rehber_account.seed({"groups": [{"name": "G"}]})
            assert rehber_account.http.call("get-groups")["groups"][0]["id"] == ids["groups"]["G"]
            rehber_account.fault("get-groups", code=503)
            assert rehber_account.http.call("get-groups").status == 503
            statuses = [e["status"] for e in rehber_account.requests("get-groups")]
            assert statuses == [200, 503]


        def test_sdk_client(rehber_account):
            import rehber

            assert isinstance(rehber_account.client, rehber.Client)
            group = rehber_account.client.groups.create("SDK")
            assert rehber_account.client.groups.get(group.id).name == "SDK"
            assert rehber_account.requests()[-1]["action"] == "get-group"


        def test_accounts_are_fresh(rehber_account):
            assert rehber_account.requests() == []
            assert rehber_account.http.call("get-groups")["groups"] == []


        def test_server(rehber_server):
            assert rehber_server.health()["status"] == "ok"


        def test_app_sync(rehber_app):
            account = rehber_app.create_account()
            reply = account.http.call("add-group", {"group": {"name": "İç"}})
            assert reply.ok
            assert rehber_app.control.requests()[0]["action"] == "add-group"


        def test_app_async(rehber_app):
            account = rehber_app.create_account()
            body = (
                '{"request":{"authentication":{"key":"%s","hash":"%s"}}}'
                % (account.key, account.hash)
            )

            async def call():
                async with rehber_app.async_client() as client:
                    response = await client.post("/v1/get-groups/json", content=body)
                    return response.json()["response"]["status"]["code"]

            assert asyncio.run(call()) == 200
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=6)


def test_under_xdist_each_worker_runs_its_own_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    monkeypatch.setenv("URL_LOG", str(urls))
    pytester.makepyfile(test_isolation=ISOLATION_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=6)
    assert len(set(urls.read_text().split())) == 2


def test_under_xdist_with_one_shared_server(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    monkeypatch.setenv("URL_LOG", str(urls))
    pytester.makepyfile(test_isolation=ISOLATION_TESTS)
    with emulator_server(tmp_path / "shared") as base_url:
        result = pytester.runpytest_subprocess(
            "-n", "2", "-p", "no:cacheprovider", f"--rehber-url={base_url}"
        )
        result.assert_outcomes(passed=6)
        assert set(urls.read_text().split()) == {base_url}
        journal = httpx.get(f"{base_url}/_rehber/requests").json()["requests"]
    assert len({e["account_id"] for e in journal}) == 6
    assert sum(e["status"] == 503 for e in journal) == 60


def test_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--rehber-url*"])
