"""The batch sequencer: group commit for many concurrent submitters (Tessera's model).

Submitters call `submit(statement)` and get a `Future` of the entry's index. One sequencer
thread drains the queue in batches (up to `max_batch` statements, or whatever arrived within
`max_wait` seconds of the first), appends each batch through `Ledger.append` — one
transaction and one fsync for the whole batch, under the store's single-writer section (an
advisory lock on PostgreSQL, so one sequencer wins even across processes) — and only then
resolves the futures: an index is never acknowledged before it is durable.

Checkpoints are published by a second thread, the checkpointer (Tessera's model: one every
`checkpoint_every` seconds while there are new entries, and on demand with
`checkpoint_now`), so a witness that is slow or down delays its cosignature and never a
batch: `Ledger.publish_checkpoint` reads the tree from tiles without the writer section and
asks the witnesses with a timeout.

A statement the ledger refuses fails its own future and nobody else's: when a batch is
refused, the sequencer retries its statements one by one so the good ones still land.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from ledger.errors import LedgerError
from ledger.service import Ledger

__all__ = ["Sequencer"]

log = logging.getLogger(__name__)

_STOP = object()


@dataclass(frozen=True)
class _Submitted:
    statement: dict[str, Any]
    blobs: tuple[tuple[str, bytes], ...]
    disclosures: tuple[tuple[str, bytes], ...]
    future: Future[int]


class Sequencer:
    """One writer thread that integrates submitted statements in batches."""

    def __init__(self, ledger: Ledger, *, max_batch: int = 256, max_wait: float = 0.05,
                 checkpoint_every: float | None = 1.0) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self.max_wait = max_wait
        self.checkpoint_every = checkpoint_every
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="tmec-sequencer", daemon=True)
        self._wake = threading.Event()  # new entries, or a checkpoint asked for
        self._stopping = threading.Event()
        self._checkpointed_size = -1
        self.batches = 0
        self.checkpoints = 0
        self._checkpointer = threading.Thread(target=self._checkpoint_loop,
                                              name="tmec-checkpointer", daemon=True)
        self._thread.start()
        if checkpoint_every is not None:
            self._checkpointer.start()

    def submit(self, statement: Mapping[str, Any], *,
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> Future[int]:
        """Queue a signed statement; the future resolves to its index once durable.

        `blobs` and `disclosures` (a token and its disclosure records, `PreparedToken`)
        are written in the transaction of the batch that appends the statement.
        """
        future: Future[int] = Future()
        self._queue.put(_Submitted(dict(statement), tuple(blobs), tuple(disclosures), future))
        return future

    def checkpoint_now(self) -> None:
        """Ask the checkpointer for a checkpoint as soon as it can (on demand)."""
        self._wake.set()

    def close(self, *, checkpoint: bool = True) -> None:
        """Integrate what is queued, stop both threads, publish a last checkpoint."""
        self._queue.put(_STOP)
        self._thread.join()
        self._stopping.set()
        self._wake.set()
        if self._checkpointer.is_alive():
            self._checkpointer.join()
        if checkpoint and self.ledger.size != self._checkpointed_size and self.batches:
            self._publish()

    def _publish(self) -> None:
        size = self.ledger.size
        try:
            self.ledger.publish_checkpoint()
        except LedgerError as exc:  # the entries are durable; report and carry on
            log.warning("checkpoint not published: %s", exc)
            return
        self._checkpointed_size = size
        self.checkpoints += 1

    def _checkpoint_loop(self) -> None:
        """Publish at most every `checkpoint_every` seconds, only when the log grew."""
        assert self.checkpoint_every is not None
        while not self._stopping.is_set():
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            if self.ledger.size != self._checkpointed_size:
                self._publish()
            self._stopping.wait(self.checkpoint_every)

    def __enter__(self) -> Sequencer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_batch:
                timeout = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=max(timeout, 0)) if timeout > 0 else (
                        self._queue.get_nowait())
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._integrate(batch)

    def _integrate(self, batch: list[_Submitted]) -> None:
        try:
            indices = self.ledger.append(
                [item.statement for item in batch],
                blobs=[blob for item in batch for blob in item.blobs],
                disclosures=[record for item in batch for record in item.disclosures])
        except Exception as exc:  # handed to the submitters, never lost
            if len(batch) > 1 and isinstance(exc, LedgerError):
                for item in batch:  # isolate the refused statement(s)
                    self._integrate([item])
                return
            for item in batch:
                item.future.set_exception(exc)
            return
        self.batches += 1
        for item, index in zip(batch, indices, strict=True):
            item.future.set_result(index)
        self._wake.set()
