"""docs/testing.md is executed: every fenced ``python``, ``sh`` and ``js`` block runs against a
real emulator (``REHBER_URL``), ``# fixture:`` YAML blocks are seeded, and ``# file:`` Python
blocks run as pytest modules with the plugin. A block preceded by ``<!-- not run: why -->`` is
skipped; the examples live only in the docs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from rehber.testing import EmulatorControl, emulator_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
_FENCE = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>\w*)\n(?P<code>.*?)\n```", re.S)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    line: int
    skipped: bool

    @property
    def name(self) -> str:
        return f"{self.lang}-line{self.line}"


def blocks() -> list[Block]:
    text = DOC.read_text()
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        skipped = match.group("before").startswith("<!-- not run")
        found.append(Block(match.group("lang"), match.group("code"), line, skipped))
    return found


def kind_of(block: Block) -> str | None:
    """How a block is run: ``script``, ``module``, ``fixture``, ``sh``, ``js`` or not at all."""
    if block.skipped:
        return None
    if block.lang == "python":
        return "module" if block.code.startswith("# file: ") else "script"
    if block.lang == "yaml":
        return "fixture" if block.code.startswith("# fixture") else None
    return block.lang if block.lang in ("sh", "js") else None


def runnable(kind: str) -> list[Block]:
    return [b for b in blocks() if kind_of(b) == kind]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator_server(tmp_path_factory.mktemp("docs")) as url:
        yield url


def _run(args: list[str], base_url: str, cwd: Path) -> None:
    env = {**os.environ, "REHBER_URL": base_url}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{args[0]} failed:\n{done.stdout}\n{done.stderr}"


def test_every_block_is_run_or_marked() -> None:
    known = {"python", "sh", "js", "yaml", "json", "php"}
    assert {b.lang for b in blocks()} <= known
    assert all(b.skipped for b in blocks() if b.lang == "php")
    for kind in ("script", "module", "fixture", "sh", "js"):
        assert runnable(kind), f"docs/testing.md has no runnable {kind} block"


@pytest.mark.parametrize("block", runnable("script"), ids=lambda b: b.name)
def test_python_examples(block: Block, base_url: str, tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text(block.code)
    _run([sys.executable, str(script)], base_url, tmp_path)


@pytest.mark.parametrize("block", runnable("sh"), ids=lambda b: b.name)
def test_shell_examples(block: Block, base_url: str, tmp_path: Path) -> None:
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    script = tmp_path / "example.sh"
    script.write_text("set -euo pipefail\n" + block.code)
    _run(["bash", str(script)], base_url, tmp_path)


@pytest.mark.parametrize("block", runnable("js"), ids=lambda b: b.name)
def test_node_examples(block: Block, base_url: str, tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    script = tmp_path / "example.js"
    script.write_text(block.code)
    _run(["node", str(script)], base_url, tmp_path)


@pytest.mark.parametrize("block", runnable("fixture"), ids=lambda b: b.name)
def test_yaml_fixtures_seed(block: Block, base_url: str) -> None:
    with httpx.Client(base_url=base_url) as http:
        account = EmulatorControl(http).create_account()
        response = http.post(
            "/_rehber/seed",
            params={"account_id": account.account_id},
            content=block.code.encode(),
            headers={"content-type": "application/yaml"},
        )
        assert response.status_code == 201, response.text


@pytest.mark.parametrize("block", runnable("module"), ids=lambda b: b.name)
def test_pytest_examples(block: Block, pytester: pytest.Pytester) -> None:
    name = block.code.splitlines()[0].removeprefix("# file: ").strip()
    pytester.path.joinpath(name).write_text(block.code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=block.code.count("\ndef test_"))
