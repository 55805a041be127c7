"""`tmec witness serve`: a customs authority's witness, over C2SP tlog-witness HTTP.

Each authority (CBP, CBSA, ANAM) runs its own: its cosigning key, its state file (the last
checkpoint it cosigned for each log, replaced atomically under a lock before it answers),
the public key of the log it follows. ``POST /add-checkpoint`` is `ledger.witness_http`'s
handler on the standard library's threaded HTTP server; ``GET /healthz`` says it is up.
Either name the files (``--key``, ``--state``, ``--log``), or take a workspace's witness
by name (``--home DIR --name cbp``: the demo's three).
"""

from __future__ import annotations

import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import handle_errors
from cli.render import console, say
from ledger.config import Settings
from ledger.errors import InputError, NotFoundError
from ledger.installation import FileWitness, Workspace
from ledger.note import Verifier
from ledger.witness_http import MAX_REQUEST_BYTES, handle_add_checkpoint

witness_app = typer.Typer(help="Run a transparency-log witness (C2SP tlog-witness).",
                          no_args_is_help=True, rich_markup_mode=None)


def _handler(witness: FileWitness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "tmec-witness/1"

        def _answer(self, status: int, media: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                self._answer(404, "text/plain; charset=utf-8", "not found\n")
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_REQUEST_BYTES:
                self._answer(400, "text/plain; charset=utf-8", "bad Content-Length\n")
                return
            body = self.rfile.read(int(length))
            self._answer(*handle_add_checkpoint(witness, body, int(time.time())))

        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(200, "text/plain; charset=utf-8", f"{witness.name}\n")
            else:
                self._answer(404, "text/plain; charset=utf-8", "not found\n")

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # quiet: one line per request would drown the demo's output

    return Handler


@witness_app.command("serve")
@handle_errors
def witness_serve(
    name: Annotated[str | None, typer.Option(help="A workspace witness (with --home).")] = None,
    home: Annotated[str | None, typer.Option("--home", metavar="DIR",
                                             help="The workspace holding the witness.")] = None,
    key: Annotated[Path | None, typer.Option(help="The witness's cosigning key file.")] = None,
    state: Annotated[Path | None, typer.Option(help="The witness's state file.")] = None,
    log: Annotated[str | None, typer.Option(help="The followed log's vkey.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.", min=1, max=65535)] = 8101,
) -> None:
    """Serve POST /add-checkpoint for one witness until interrupted."""
    if name is not None:
        workspace = Workspace(Settings.from_env(home=home))
        workspace.require()
        key_path, state_path = workspace.witness_paths(name)
        if not key_path.exists():
            raise NotFoundError(f"no witness {name!r} in {workspace.home}")
        witness = FileWitness(key_path, state_path, workspace.log_signer().verifier)
    elif key is not None and state is not None and log is not None:
        witness = FileWitness(key, state, Verifier.from_vkey(log))
    else:
        raise InputError("give --name (and --home), or --key, --state and --log")
    server = ThreadingHTTPServer((host, port), _handler(witness))
    say(console(), f"witness {witness.name} on http://{host}:{port}/add-checkpoint")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    """Attach `witness` to the main `tmec` app."""
    app.add_typer(witness_app, name="witness")
