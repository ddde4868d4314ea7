"""The inbox ingest in a child process: its CPU work never holds the bot's interpreter.

Cleaning, summarising and tagging a large dump is minutes of pure-Python work. In a thread of
the bot's own process it holds the GIL against the event loop, so replies and sends wait;
in a child process (spawned: nothing of the bot's state is copied) the bot keeps answering.

The bot process still holds its ingest worker's lock while the child runs, so "one ingest at
a time" holds as before (an admin's ``/ingest`` or ``/reingest`` is refused meanwhile, and
the inbox waits for an admin's ingest). The child stores through its own engine, each
document in short transactions as always (briefings/storing.py); its report comes back to
the inbox job. It ends when
the bot process ends (it watches its parent), so no ingest outlives the bot. It runs at a
lower CPU priority than the bot: on a busy machine the replies get the cores first.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from briefings.errors import one_line
from briefings.ingest import Ingestor
from briefings.inputs import IngestReport, iter_input_files
from briefings.pipeline import PipelineConfig
from storage.engine import make_engine, make_session_factory

log = logging.getLogger(__name__)
PARENT_CHECK_SECONDS = 1.0
# inputs smaller than this are ingested in a thread: starting a child costs a second or two
# of imports, more than a small file's whole ingest
CHILD_MIN_BYTES = 512 * 1024
NICENESS = 10  # the child yields the CPU to the bot: an ingest can wait, a reply cannot


class IngestFailed(Exception):
    """The child process failed as a whole (a file's own error is in the report)."""


def _watch_parent(parent: int) -> None:
    def watch() -> None:
        while True:
            time.sleep(PARENT_CHECK_SECONDS)
            if os.getppid() != parent:  # the bot is gone: stop (the open transaction rolls back)
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _child(
    parent: int, level: int, url: str, config: PipelineConfig, paths: list[Path], out: Connection
) -> None:
    """The child's whole life: ingest ``paths`` into the store at ``url``, send the report."""
    _watch_parent(parent)
    with contextlib.suppress(OSError):  # not allowed here: at the bot's priority, then
        os.nice(NICENESS)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(url)
    try:
        report = Ingestor(make_session_factory(engine), config).ingest_paths(paths)
        out.send(("ok", report))
    except BaseException as exc:
        out.send(("error", f"{type(exc).__name__}: {one_line(exc)}"))
        raise
    finally:
        engine.dispose()
        out.close()


def _size(paths: list[Path]) -> int:
    total = 0
    for path in iter_input_files(paths):
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


class IngestProcess:
    """Runs ingests in a spawned child process, one at a time (see the module); inputs under
    ``min_bytes`` in all are ingested in the calling thread."""

    def __init__(self, min_bytes: int = CHILD_MIN_BYTES) -> None:
        self.min_bytes = min_bytes
        self._running: multiprocessing.process.BaseProcess | None = None

    def ingest(self, ingestor: Ingestor, url: str, paths: list[Path]) -> IngestReport:
        """Ingest ``paths`` as the only ingest of this process, in a child when they are
        large (blocks: call it in a thread).

        Raises:
            briefings.errors.IngestBusy: another ingest of this process is running.
            IngestFailed: the child died or failed outside any one file.
        """
        with ingestor.exclusive(wait=False):
            if _size(paths) < self.min_bytes:
                return ingestor.ingest_paths(paths)
            # story linking reads the store: what the child stored is seen by the next ingest
            return self._run(ingestor.config, url, paths)

    def _run(self, config: PipelineConfig, url: str, paths: list[Path]) -> IngestReport:
        context = multiprocessing.get_context("spawn")
        receive, send = context.Pipe(duplex=False)
        level = logging.getLogger().getEffectiveLevel()
        process = context.Process(
            target=_child, args=(os.getpid(), level, url, config, paths, send),
            name="briefbot-ingest", daemon=True,
        )  # fmt: skip
        self._running = process
        process.start()
        log.info("ingesting %s in child process %s", ", ".join(map(str, paths)), process.pid)
        send.close()  # the child holds the other end: EOF here when it dies
        try:
            status, value = receive.recv()
        except EOFError:
            raise IngestFailed(f"the ingest process ended ({process.exitcode})") from None
        finally:
            receive.close()
            process.join()
            self._running = None
        if status != "ok":
            raise IngestFailed(str(value))
        assert isinstance(value, IngestReport)
        return value

    def close(self) -> None:
        """Stop a running ingest (its open transaction rolls back)."""
        process = self._running
        if process is not None and process.is_alive():
            log.info("stopping the running inbox ingest")
            process.terminate()
