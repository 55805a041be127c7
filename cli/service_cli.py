"""`tmec serve` (the HTTP API) and `tmec accounts` (who may call it).

`tmec serve` runs the app of `ledger.api` under uvicorn with uvloop and httptools (plain
asyncio stalls keep-alive requests under several workers), each worker building its app
from the environment. `tmec accounts` creates accounts and API keys directly in the
ledger's database: the bootstrap of the first registrar, and what an operator does by hand.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from cli.errors import handle_errors
from cli.render import console, say, text
from cli.render import print_json as _print_json
from ledger.config import Settings
from ledger.installation import Workspace

serve_help = "Serve the HTTP API and the log's tiles (default http://127.0.0.1:8000)."
accounts_app = typer.Typer(help="API accounts and keys (in the ledger's database).",
                           no_args_is_help=True, rich_markup_mode=None)

Home = Annotated[str | None, typer.Option("--home", metavar="DIR", help="Ledger workspace "
                                          "(default $TMEC_HOME or ./var/ledger).")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _accounts(home: str | None):  # type: ignore[no-untyped-def]
    from ledger.api.accounts import AccountStore
    from ledger.store.sql import SqlStore

    ledger = Workspace(Settings.from_env(home=home)).open_ledger(with_witnesses=False)
    assert isinstance(ledger.store, SqlStore)
    return AccountStore(ledger.store.engine)


@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    home: Home = None,
) -> None:
    """Serve the HTTP API and the log's tiles (default http://127.0.0.1:8000)."""
    from ledger.api.serving import serve as serve_api

    settings = Settings.from_env(home=home)
    Workspace(settings).require()
    os.environ["TMEC_HOME"] = str(settings.home)
    os.environ["TMEC_DATABASE_URL"] = settings.database_url
    os.environ["TMEC_LOG_ORIGIN"] = settings.origin
    say(console(), f"serving {settings.home} on http://{host}:{port} "
        f"(API docs: http://{host}:{port}/v1/docs)")
    serve_api(host, port, workers)


@accounts_app.command("create")
@handle_errors
def accounts_create(
    role: Annotated[str, typer.Option(help="exporter, producer, importer, supplier, broker, "
                                      "customs, auditor or registrar.")],
    party: Annotated[str, typer.Option(help="The party id it acts for (customs: cbp, cbsa, "
                                       "anam).")],
    name: Annotated[str, typer.Option(help="Who it is, for people.")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Create an account and its first API key (printed this once, stored hashed)."""
    from ledger.api.accounts import Role
    from ledger.errors import InputError

    try:
        chosen = Role(role)
    except ValueError:
        raise InputError(f"--role must be one of {', '.join(r.value for r in Role)}, "
                         f"not {role[:40]!r}") from None
    store = _accounts(home)
    account = store.create_account(chosen, party, name)
    issued = store.issue_key(account.account_id, "first key")
    if as_json:
        _print_json({"account": account.to_dict(), "apiKey": issued.key,
                     "keyId": issued.key_id})
        return
    out = console()
    say(out, f"account {account.account_id} ({account.role.value} for {account.party_id})")
    say(out, f"API key (shown once, keep it safe): {issued.key}")


@accounts_app.command("list")
@handle_errors
def accounts_list(home: Home = None, as_json: Json = False) -> None:
    """Every account: id, role, party, name."""
    accounts = _accounts(home).accounts()
    if as_json:
        _print_json({"accounts": [a.to_dict() for a in accounts]})
        return
    table = Table(title="API accounts", title_justify="left")
    for column in ("account", "role", "party", "name"):
        table.add_column(column)
    for a in accounts:
        table.add_row(text(a.account_id), a.role.value, text(a.party_id), text(a.name))
    console().print(table)


@accounts_app.command("revoke-key")
@handle_errors
def accounts_revoke_key(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's public id.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the revocation).")],
    home: Home = None,
) -> None:
    """Revoke an API key: refused by every worker from the next request on."""
    at = _accounts(home).revoke_key(key_id, reason)
    say(console(), f"API key {key_id} revoked at {at}")


@accounts_app.command("password")
@handle_errors
def accounts_password(
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="The account id, e.g. "
                                           "registrar.registrar.")],
    stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from "
                                        "the first line of standard input.")] = False,
    home: Home = None,
) -> None:
    """Set an account's web sign-in password (asked twice, not echoed); its sessions end.

    What the registrar's page does, on the server: the first registrar's password.
    """
    import sys

    # ledger.api first: it loads the pages, which load the credentials (as tmec demo does).
    import ledger.api.accounts  # noqa: F401
    from ledger.store.sql import SqlStore
    from ledger.web.credentials import CredentialStore

    if stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    opened = Workspace(Settings.from_env(home=home)).open_ledger(with_witnesses=False)
    assert isinstance(opened.store, SqlStore)
    credentials = CredentialStore(opened.store.engine)
    credentials.set_password(account, password)
    ended = credentials.end_other_sessions(account, None, "password set on the server")
    say(console(), f"password of {account} set ({ended} session(s) ended)")


def register(app: typer.Typer) -> None:
    """Attach `serve` and `accounts` to the main `tmec` app."""
    app.command("serve", help=serve_help)(serve)
    app.add_typer(accounts_app, name="accounts")
