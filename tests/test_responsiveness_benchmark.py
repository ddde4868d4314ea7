"""The responsiveness benchmark still runs: every phase answers every command, with figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^  (/search|/latest|/brief|all)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")


@pytest.mark.slow
def test_the_responsiveness_benchmark_measures_every_command_in_every_phase() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "responsiveness.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    blocks = re.split(r"^phase ", done.stdout, flags=re.M)[1:]
    names = [block.split("  ")[0].strip() for block in blocks]
    assert names == ["idle", "during fan-out", "during ingest"], done.stdout
    for block in blocks:
        rows = {m[1]: m.groups()[1:] for line in block.splitlines() if (m := ROW.match(line))}
        assert set(rows) == {"/search", "/latest", "/brief", "all"}, block
        n, p50, p95, top, missing = (int(x) for x in rows["all"])
        assert n >= 1 and missing == 0, block
        assert 0 < p50 <= p95 <= top < 60_000, block
        assert n == sum(int(rows[c][0]) for c in ("/search", "/latest", "/brief")), block
    assert re.search(r"briefing messages sent during the phase", blocks[1]), done.stdout
    assert re.search(r"ingest of \d+ articles \(dump.jsonl\) took \d+ s", blocks[2]), done.stdout
    assert re.search(
        r"^target p95 <= 300 ms .*: (PASS|FAIL) \(worst p95 \d+ ms", done.stdout, re.M
    ), done.stdout
