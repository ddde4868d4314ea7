"""The fault benchmark still runs: `briefbot run` delivers a slot with no fault, none lost."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_fault_benchmark_baseline_loses_and_repeats_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "faults.py"), "--faults", "none",
         "--subscribers", "20", "--timeout", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    figures = dict(re.findall(r"^  (\w[\w ()0-9]*?)\s{2,}(\S+)", done.stdout, re.M))
    assert "NOT FINISHED" not in done.stdout, done.stdout
    assert figures["delivered"] == "20", done.stdout
    assert figures["lost"] == "0", done.stdout
    assert figures["duplicated"] == "0", done.stdout
    assert figures["partial"] == "0", done.stdout
    assert int(figures["max in any 1 s"]) <= 25, done.stdout
