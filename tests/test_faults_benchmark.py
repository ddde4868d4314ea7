"""The fault benchmark still runs: `briefbot run` delivers a slot with no fault, none lost;
and its two store faults (dropped PostgreSQL connections, an ingest on the same SQLite store)
lose and repeat nothing and leave the scheduler running."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(*args: str) -> dict[str, dict[str, str]]:
    """Run benchmarks/faults.py; its figures per fault (``figures[fault]["lost"]`` …)."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "faults.py"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "NOT FINISHED" not in done.stdout, done.stdout
    blocks = re.split(r"^fault ", done.stdout, flags=re.M)[1:]
    return {
        block.split()[0]: dict(re.findall(r"^  (\w[\w ()0-9]*?)\s{2,}(\S+)", block, re.M))
        for block in blocks
    }


@pytest.mark.slow
def test_the_fault_benchmark_baseline_loses_and_repeats_nothing() -> None:
    figures = run_benchmark("--faults", "none", "--subscribers", "20", "--timeout", "120")["none"]
    assert figures["delivered"] == "20", figures
    assert figures["lost"] == "0", figures
    assert figures["duplicated"] == "0", figures
    assert figures["partial"] == "0", figures
    assert int(figures["max in any 1 s"]) <= 25, figures


@pytest.mark.slow
@pytest.mark.postgres
def test_dropped_connections_and_an_ingest_during_the_fan_out_lose_and_repeat_nothing() -> None:
    results = run_benchmark(
        "--faults", "dbdrop,ingest", "--subscribers", "40", "--articles", "0",
        "--dump-articles", "300", "--timeout", "240",
    )  # fmt: skip
    assert set(results) == {"dbdrop", "ingest"}
    for fault, figures in results.items():
        assert figures["delivered"] == "40", (fault, figures)
        assert (figures["lost"], figures["partial"]) == ("0", "0"), (fault, figures)
        assert figures["duplicated"] == "0", (fault, figures)
        assert figures["scheduler"] == "ran", (fault, figures)  # every job started after it
