"""The documented cases of ``examples.json`` (the shared API folder next to the repository)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parents[3] / "shared" / "api" / "examples.json"
EXAMPLES: dict[str, Any] = json.loads(PATH.read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = {case["id"]: case for case in EXAMPLES["cases"]}
CREDENTIALS: dict[str, str] = EXAMPLES["meta"]["test_credentials"]
