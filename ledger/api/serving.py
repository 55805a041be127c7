"""Serving the API: uvicorn workers, each with its own listening socket (``SO_REUSEPORT``).

uvicorn's ``--workers`` shares one listening socket between its processes, and whichever
worker wakes first accepts: a burst of keep-alive connections opened together often lands
on one worker while the other idles (measured here: runs of one benchmark differing 2-3x).
With ``SO_REUSEPORT`` each worker listens on a socket of its own bound to the same address,
and the kernel spreads new connections over them by a hash of the connection's addresses,
so every worker gets its share (Linux 3.9+, `socket(7)`). Only processes of the same user
may join the group, so no other user can take a share of the connections.

The supervisor (this process) holds the port while it runs, starts one process per worker,
replaces a worker that dies (a worker that dies before it was ever up stops the whole
server with its exit status: a broken configuration must not restart forever), and stops
them all on SIGINT or SIGTERM. A worker is up once uvicorn has finished its start-up (the
app built, the socket served), which it tells the supervisor through an event; how long it
has lived says nothing (a worker killed a second after it came up is replaced, not taken
for a broken configuration). Connections queued on a dying worker's socket are lost with
it (the kernel does not move them), as they would be with any crashing server; clients
retry. Where ``SO_REUSEPORT`` does not exist, uvicorn's own shared-socket workers serve.

Every worker is the same app (`ledger.api.asgi.app_factory`), opening its own `Service`
over the shared database: nothing a request needs lives in one worker only.

Appends and checkpoints are the work of one more process, the server's sequencer
(`ledger.shared_sequencer`), started before the workers and replaced like them if it
dies: the workers hand it their registrations over a Unix socket in a private temporary
directory, so the server has one writer, batching everyone's statements, instead of one
per worker taking the store's writer lock in turn. It shows as ``tmec-sequencer`` in
``ps``. A process of another server on the same PostgreSQL database still takes the lock
in turn with it: the store's writer section is what keeps the log linear, not this.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import ClassVar

from ledger.errors import LedgerError
from ledger.shared_sequencer import SequencerAddress

__all__ = ["APP", "ServeError", "serve"]

#: The ASGI application every worker serves (a factory: each worker builds its own).
APP = "ledger.api.asgi:app_factory"
_BACKLOG = 2048  # uvicorn's default


class ServeError(LedgerError):
    """The server could not start (port taken, a worker that cannot start)."""

    code: ClassVar[str] = "api.serve_failed"
    title: ClassVar[str] = "Cannot serve"


@dataclass
class _Worker:
    process: BaseProcess
    up: Event  # set by the worker once uvicorn's start-up has finished


def _listening_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    if listen:
        sock.listen(_BACKLOG)
    sock.set_inheritable(True)
    return sock


def _name_process(name: str) -> None:
    """Show `name` in ``ps`` and ``/proc/<pid>/comm`` (Linux; elsewhere nothing)."""
    try:
        with open("/proc/self/comm", "w", encoding="ascii") as comm:
            comm.write(name[:15])
    except OSError:  # pragma: no cover - not Linux
        pass


def _run_sequencer(address: SequencerAddress, up: Event
                   ) -> None:  # pragma: no cover - runs in a child process
    from ledger.api.context import Service
    from ledger.api.settings import ApiSettings
    from ledger.sequencer import Sequencer
    from ledger.shared_sequencer import SequencerServer

    _name_process("tmec-sequencer")
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM stops
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    settings = ApiSettings.from_env()
    service = Service.open(settings)
    try:
        sequencer = Sequencer(service.ledger, checkpoint_every=settings.checkpoint_every,
                              max_wait=0.0)
        server = SequencerServer(sequencer, address)
        up.set()
        while not stop.wait(0.5):
            pass
        server.close()  # what is queued is integrated and answered; a last checkpoint
    finally:
        service.close()


def _run_worker(host: str, port: int, up: Event, environment: dict[str, str]
                ) -> None:  # pragma: no cover - runs in a child process
    import uvicorn

    os.environ.update(environment)  # where the server's sequencer listens

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                up.set()

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor decides; SIGTERM stops
    sock = _listening_socket(host, port, listen=True)
    config = uvicorn.Config(APP, factory=True, loop="uvloop", http="httptools",
                            log_level="warning", proxy_headers=False)
    _Server(config).run(sockets=[sock])


def serve(host: str, port: int, workers: int) -> None:
    """Serve the API on `host`:`port` with `workers` processes until SIGINT or SIGTERM.

    Raises:
        ServeError: the address cannot be bound, or a worker failed before it was up.
    """
    if workers == 1 or not hasattr(socket, "SO_REUSEPORT"):
        import uvicorn

        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers,
                    loop="uvloop", http="httptools", log_level="warning",
                    proxy_headers=False)
        return
    # Held, bound but not listening, while the server runs: the port is ours from here
    # (and taken ports fail now, with a clear message), and the kernel routes connections
    # only to the workers' listening sockets.
    holder = _listening_socket(host, port, listen=False)
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    # The socket's directory is created 0700: only this user may connect, and the
    # connection is authenticated with a key only this server's processes hold.
    directory = tempfile.mkdtemp(prefix="tmec-sequencer-")
    address = SequencerAddress(os.path.join(directory, "socket"), os.urandom(32))

    def start_sequencer() -> _Worker:
        up = context.Event()
        process = context.Process(target=_run_sequencer, args=(address, up), daemon=False)
        process.start()
        return _Worker(process, up)

    def start() -> _Worker:
        up = context.Event()
        process = context.Process(target=_run_worker, args=(host, port, up, address.to_env()),
                                  daemon=False)
        process.start()
        return _Worker(process, up)

    def failed(worker: _Worker, what: str) -> ServeError:
        return ServeError(f"{what} {worker.process.pid} exited with status "
                          f"{worker.process.exitcode} while starting; see its messages above")

    sequencer = start_sequencer()
    pool: list[_Worker] = []
    try:
        # The sequencer opens (and migrates) the database before any worker does.
        while not sequencer.up.wait(0.2):
            if stopping:
                return
            if not sequencer.process.is_alive():
                raise failed(sequencer, "the sequencer")
        pool = [start() for _ in range(workers)]
        while not stopping:
            time.sleep(0.2)
            if not sequencer.process.is_alive() and not stopping:
                if not sequencer.up.is_set():
                    raise failed(sequencer, "the sequencer")
                sequencer = start_sequencer()
            for n, worker in enumerate(pool):
                if worker.process.is_alive() or stopping:
                    continue
                if not worker.up.is_set():
                    raise failed(worker, "worker")
                pool[n] = start()
    finally:
        _stop(pool)  # the workers first: their registrations in flight are answered
        _stop([sequencer])
        shutil.rmtree(directory, ignore_errors=True)
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(processes: list[_Worker]) -> None:
    """SIGTERM each, wait up to 30 s for all, then SIGKILL what is left."""
    for worker in processes:
        if worker.process.is_alive():
            os.kill(worker.process.pid or 0, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for worker in processes:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
