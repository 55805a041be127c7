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
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import ClassVar

from ledger.errors import LedgerError

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


def _run_worker(host: str, port: int, up: Event
                ) -> None:  # pragma: no cover - runs in a child process
    import uvicorn

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

    def start() -> _Worker:
        up = context.Event()
        process = context.Process(target=_run_worker, args=(host, port, up), daemon=False)
        process.start()
        return _Worker(process, up)

    pool = [start() for _ in range(workers)]
    try:
        while not stopping:
            time.sleep(0.2)
            for n, worker in enumerate(pool):
                if worker.process.is_alive() or stopping:
                    continue
                code = worker.process.exitcode
                if not worker.up.is_set():
                    raise ServeError(f"worker {worker.process.pid} exited with status {code} "
                                     "while starting; see its messages above")
                pool[n] = start()
    finally:
        for worker in pool:
            if worker.process.is_alive():
                os.kill(worker.process.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for worker in pool:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        holder.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
