"""One sequencer for a whole server, shared by its worker processes over a local socket.

With a `Sequencer` in every worker process, each worker's writer thread takes the store's
single-writer section in turn (a ``flock`` on SQLite, an advisory lock on PostgreSQL), so
the batches of two workers alternate instead of growing, every batch pays the append's
fixed cost, and inside the section the writer thread waits for the GIL that the worker's
request threads hold between its SQLite calls. SQLite also drops a connection's page
cache whenever another connection has written: two alternating writers re-read the
indexes' pages for every batch. One writer per server, in a process of its own that
serves no requests, removes all three (Tessera and Trillian sequence in one place too).

`SequencerServer` runs in that process around an ordinary `Sequencer`: it accepts the
workers' connections on a Unix socket (``multiprocessing.connection``, authenticated with
a key only the server's processes hold; the socket lives in a directory only its user
may enter) and hands each submitted statement to the sequencer; the index, or the error
the ledger refused the statement with, goes back once the batch is durable.
`SequencerClient` is what a worker submits through: the same `submit` as `Sequencer`,
returning a `Future` of the index.

If the sequencer process dies, the statements in flight fail with
`StoreUnavailableError`: each may or may not have been committed, so the submitter looks
its entry up before it submits again (`ledger.api.context.Service.log_prepared`). The
supervisor (`ledger.api.serving`) starts a new sequencer process, and the client
reconnects on its next submit, waiting up to `connect_timeout` seconds for it. Nothing
that must survive lives in the sequencer process: an index is acknowledged only once its
entry is committed in the store.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import os
import pickle
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection, Listener
from typing import Any

from ledger.errors import StoreUnavailableError
from ledger.sequencer import Sequencer

__all__ = ["SequencerAddress", "SequencerClient", "SequencerServer"]

log = logging.getLogger(__name__)

#: Environment variables through which `tmec serve` tells its workers where the server's
#: sequencer listens (set by the supervisor; not an operator's setting).
SOCKET_VARIABLE = "TMEC_SEQUENCER_SOCKET"
AUTHKEY_VARIABLE = "TMEC_SEQUENCER_AUTHKEY"

@dataclass(frozen=True)
class SequencerAddress:
    """Where a server's sequencer listens, and the key its clients authenticate with."""

    path: str
    authkey: bytes = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SequencerAddress | None:
        """The address `tmec serve` put in the environment, or None (no shared sequencer)."""
        path = env.get(SOCKET_VARIABLE, "").strip()
        if not path:
            return None
        try:
            authkey = bytes.fromhex(env.get(AUTHKEY_VARIABLE, ""))
        except ValueError:
            authkey = b""
        if len(authkey) < 16:
            raise StoreUnavailableError(f"{AUTHKEY_VARIABLE} must hold at least 16 bytes "
                                        "in hex beside " + SOCKET_VARIABLE)
        return cls(path, authkey)

    def to_env(self) -> dict[str, str]:
        """The environment variables that `from_env` reads back."""
        return {SOCKET_VARIABLE: self.path, AUTHKEY_VARIABLE: self.authkey.hex()}


def _portable_error(exc: BaseException) -> BaseException:
    """`exc` if it survives pickling (the ledger's errors do), else a plain stand-in."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to round-trip: send a stand-in
        return RuntimeError(f"the sequencer failed: {type(exc).__name__}: {exc}")
    return exc


class SequencerServer:
    """Accepts workers' connections and feeds their statements to one `Sequencer`.

    Thread-safe by construction: one thread accepts, one thread per connection reads,
    and replies are sent from the sequencer's thread under a lock per connection.
    """

    def __init__(self, sequencer: Sequencer, address: SequencerAddress) -> None:
        self.sequencer = sequencer
        self.address = address
        if os.path.exists(address.path):  # a socket left by a killed predecessor
            os.unlink(address.path)
        self._closed = False
        self._listener = Listener(address.path, family="AF_UNIX", authkey=address.authkey,
                                  backlog=128)
        self._accepting = threading.Thread(target=self._accept_loop, daemon=True,
                                           name="tmec-sequencer-accept")
        self._accepting.start()

    def _accept_loop(self) -> None:
        while True:
            try:
                connection = self._listener.accept()
            except Exception as exc:  # refused authentication, or out of descriptors
                if self._closed:
                    return
                log.warning("sequencer connection refused: %s", exc)
                time.sleep(0.01)
                continue
            threading.Thread(target=self._serve_connection, args=(connection,),
                             daemon=True, name="tmec-sequencer-client").start()

    def _serve_connection(self, connection: Connection) -> None:
        sending = threading.Lock()

        def reply(request: int, future: Future[int]) -> None:
            exc = future.exception()
            message = (request, True, future.result()) if exc is None else (
                request, False, _portable_error(exc))
            # OSError: the worker went away, and its requests with it.
            with sending, contextlib.suppress(OSError):
                connection.send(message)

        while True:
            try:
                request, statement, blobs, disclosures = connection.recv()
            except (EOFError, OSError, ValueError, TypeError):  # gone, or not our protocol
                connection.close()
                return
            future = self.sequencer.submit(statement, blobs=blobs, disclosures=disclosures)
            future.add_done_callback(functools.partial(reply, request))

    def close(self) -> None:
        """Stop accepting; integrate what is queued (replying to it); last checkpoint."""
        self._closed = True
        self._listener.close()
        self.sequencer.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.address.path)


@dataclass
class _Link:
    connection: Connection
    pending: dict[int, Future[int]] = field(default_factory=dict)
    broken: bool = False


class SequencerClient:
    """A worker's handle on the server's sequencer: `submit` as on `Sequencer`.

    Safe to share between threads: sends are serialised by a lock, and one reader thread
    per connection resolves the futures in whatever order the batches complete.
    """

    def __init__(self, address: SequencerAddress, *, connect_timeout: float = 15.0) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._link: _Link | None = None
        self._requests = itertools.count()

    def _connected(self) -> _Link:
        """The live link, connecting (and waiting for a restarted sequencer) if needed."""
        if self._link is not None and not self._link.broken:
            return self._link
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                connection = Client(self.address.path, family="AF_UNIX",
                                    authkey=self.address.authkey)
                break
            except AuthenticationError:
                raise StoreUnavailableError(
                    f"the ledger's sequencer at {self.address.path} refused this process's "
                    "key; nothing was logged") from None
            except (OSError, EOFError) as exc:
                if time.monotonic() >= deadline:
                    raise StoreUnavailableError(
                        f"the ledger's sequencer at {self.address.path} does not answer "
                        f"({exc}); nothing was logged") from None
                time.sleep(0.05)
        link = _Link(connection)
        self._link = link
        threading.Thread(target=self._read, args=(link,), daemon=True,
                         name="tmec-sequencer-replies").start()
        return link

    def submit(self, statement: Mapping[str, Any], *,
               blobs: Sequence[tuple[str, bytes]] = (),
               disclosures: Sequence[tuple[str, bytes]] = ()) -> Future[int]:
        """Send a signed statement to the sequencer; the future resolves once durable.

        Raises:
            StoreUnavailableError: no sequencer answered within `connect_timeout`
                (nothing was sent).
        """
        future: Future[int] = Future()
        with self._lock:
            link = self._connected()
            request = next(self._requests)
            link.pending[request] = future
            try:
                link.connection.send((request, dict(statement), tuple(blobs),
                                      tuple(disclosures)))
            except OSError as exc:
                link.pending.pop(request, None)
                self._break(link, exc)
                raise StoreUnavailableError(f"the ledger's sequencer went away ({exc}); "
                                            "nothing was logged") from None
        return future

    def _read(self, link: _Link) -> None:
        while True:
            try:
                request, ok, value = link.connection.recv()
            except (EOFError, OSError) as exc:
                with self._lock:
                    self._break(link, exc)
                return
            with self._lock:
                future = link.pending.pop(request, None)
            if future is None:  # pragma: no cover - the server answers each request once
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _break(self, link: _Link, exc: BaseException) -> None:
        """Fail what was in flight on `link` (called with the lock held)."""
        if link.broken:
            return
        link.broken = True
        link.connection.close()
        pending, link.pending = link.pending, {}
        for future in pending.values():
            future.set_exception(StoreUnavailableError(
                f"the ledger's sequencer stopped with this statement in flight ({exc}); "
                "it may or may not have been logged"))

    def close(self) -> None:
        """Close the connection; statements still in flight fail (see the module)."""
        with self._lock:
            if self._link is not None:
                self._break(self._link, EOFError("closed by the worker"))
                self._link = None

