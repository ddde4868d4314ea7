"""A/B latency of /search and /topics against another revision, on one store, interleaved.

Usage::

    .venv/bin/python benchmarks/ab_search.py --url sqlite:////tmp/briefbot_scale/X.sqlite3
        [--base main] [--rounds 3]

On a shared machine absolute figures move with the load; running the base revision's
``storage/search.py`` (read with ``git show``) and this tree's search on the same store,
query by query in alternation, gives a comparison the load affects alike. /topics is
compared the same way: the base counted story leads at query time (``count_leads_live``
over the day and the week), this tree reads ``topic_counts``.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402
from scale import COMMON_QUERIES, percentiles  # noqa: E402

from briefings.text.words import SEARCH_STOP_WORDS  # noqa: E402
from storage import search, topic_counts  # noqa: E402
from storage.engine import make_engine, make_session_factory  # noqa: E402


def base_search(revision: str) -> ModuleType:
    """Import ``storage/search.py`` as it is at ``revision``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{revision}:storage/search.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path("/tmp") / f"briefbot_base_search_{revision.replace('/', '_')}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("base_search", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["base_search"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Print p50/p95 per query set for the base and this tree."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--base", default="main")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    old = base_search(args.base)
    sessions = make_session_factory(make_engine(args.url))
    now = corpus.DEFAULT_END

    def new_search(session: Any, text: str) -> object:
        return search.search_articles(session, text, limit=6, stop_words=SEARCH_STOP_WORDS)

    def old_search(session: Any, text: str) -> object:
        return old.search_articles(session, text, limit=6)

    def new_topics(session: Any) -> object:
        return [topic_counts.stored_counts(session, since=now - timedelta(days=d)) for d in (1, 7)]

    def old_topics(session: Any) -> object:
        return [
            topic_counts.count_leads_live(session, since=now - timedelta(days=d)) for d in (1, 7)
        ]

    samples: dict[str, list[float]] = {}

    def time_one(label: str, call: Callable[[Any], object]) -> None:
        with sessions() as session:
            start = time.perf_counter()
            call(session)
            samples.setdefault(label, []).append(time.perf_counter() - start)

    queries = corpus.search_queries(200, seed=7)
    for _ in range(args.rounds):
        for name, texts in (("common", COMMON_QUERIES), ("realistic", queries)):
            for text in texts:
                time_one(f"base {name}", lambda s, t=text: old_search(s, t))
                time_one(f"this {name}", lambda s, t=text: new_search(s, t))
        for _ in range(30):
            time_one("base topics counts", old_topics)
            time_one("this topics counts", new_topics)
    for label, values in samples.items():
        p = percentiles(values)
        print(f"{label:22} n={len(values):4}  p50 {p['p50']:7.2f} ms  p95 {p['p95']:7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
