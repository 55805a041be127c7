"""`tmec remote ...`: the same workflows against a running service instead of a workspace.

``--server URL`` (or ``TMEC_SERVER``) and ``--api-key KEY`` (or ``TMEC_API_KEY``) name the
service and the account; every command is one or two HTTP calls to the routes of
`ledger.api`, and prints what the local command would. A problem+json answer becomes the
same one-line ``error [code]: detail`` and the same exit code as locally (the codes are
the ledger's and the engine's); a service that cannot be reached is exit 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.errors import REJECT, UNAVAILABLE, fail, handle_errors
from cli.ledger_cli import DECISION_EXIT, render_verification
from cli.render import console, say, text
from cli.render import print_json as _print_json
from ledger.verify import Decision, Verification

remote_app = typer.Typer(help="Work against a running tmec service (--server, --api-key).",
                         no_args_is_help=True, rich_markup_mode=None)

Server = Annotated[str, typer.Option("--server", envvar="TMEC_SERVER", metavar="URL",
                                     help="The service, e.g. http://127.0.0.1:8000.")]
ApiKey = Annotated[str | None, typer.Option("--api-key", envvar="TMEC_API_KEY",
                                            metavar="KEY", help="Your account's API key.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _call(server: str, method: str, path: str, key: str | None = None, **kwargs: Any) -> Any:
    """One request; problem+json and unreachable services become the CLI's errors."""
    import httpx

    headers = dict(kwargs.pop("headers", {}))
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        response = httpx.request(method, server.rstrip("/") + path, headers=headers,
                                 timeout=120, **kwargs)
    except httpx.TransportError as exc:
        raise fail("ledger.store_unavailable", f"cannot reach {server}: {exc}") from None
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        problem = response.json()
        raise fail(str(problem.get("code", "internal")), str(problem.get("detail", "")))
    if response.status_code >= 400:
        raise fail("internal", f"{server} answered HTTP {response.status_code}")
    return response


def _bom_files(bom: Path) -> dict[str, tuple[str, bytes, str]]:
    name = bom.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return {"bom": (bom.name, bom.read_bytes(), _XLSX)}
    if name.endswith(".csv"):
        stem = str(bom)
        for suffix in (".items.csv", ".lines.csv", ".document.csv", ".csv"):
            if stem.lower().endswith(suffix):
                stem = stem[: -len(suffix)]
                break
        files = {}
        for part in ("items", "lines", "document"):
            path = Path(f"{stem}.{part}.csv")
            if path.is_file():
                files[part] = (path.name, path.read_bytes(), "text/csv")
        return files
    return {"bom": (bom.name, bom.read_bytes(), "application/json")}


@remote_app.command("rvc")
@handle_errors
def remote_rvc(bom: Annotated[Path, typer.Argument(metavar="BOM")], server: Server,
               api_key: ApiKey = None, as_json: Json = False) -> None:
    """Register a shipment's BOM: the service's determination (as `tmec rvc --json`)."""
    answer = _call(server, "POST", "/v1/determinations", api_key, files=_bom_files(bom)).json()
    if as_json:
        _print_json(answer)
        return
    out = console()
    verdict = "ORIGINATING" if answer["originating"] else "NOT ORIGINATING"
    say(out, f"{text(str(answer['good']))}: {verdict} (criterion {answer['criterion']})")
    for result in answer["results"]:
        say(out, f"  {result['method']}: RVC {result['rvc']} % vs {result['threshold']} % "
            f"({'pass' if result['pass'] else 'fail'}), headroom {result['headroom']}")


@remote_app.command("issue")
@handle_errors
def remote_issue(
    bom: Annotated[Path, typer.Argument(metavar="BOM")], server: Server,
    shipment: Annotated[str, typer.Option(help="Shipment (or programme) reference.")],
    api_key: ApiKey = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice number.")] = None,
    supersedes: Annotated[str | None, typer.Option(metavar="DIGEST")] = None,
    key_file: Annotated[Path | None, typer.Option(
        "--key", help="Sign here with your own key file (it never leaves this machine); "
        "without it the service signs with the key it holds for your party.")] = None,
    issuer_did: Annotated[str | None, typer.Option(
        "--issuer-did", metavar="DID", help="With --key: the token's issuer, your key's "
        "did:key (the default) or your party's did:web:<host>:parties:<party> on the "
        "service's host. The service's key signs under your party's choice "
        "(PUT /v1/identity).")] = None,
    as_json: Json = False,
) -> None:
    """Issue the shipment's token: signed by the service's held key, or here with --key."""
    if key_file is not None:
        answer = _signed_here(server, api_key, bom, key_file, shipment, invoice, supersedes,
                              issuer_did)
    elif issuer_did is not None:
        from ledger.errors import InputError

        raise InputError("--issuer-did goes with --key; the service's held key signs under "
                         "your party's chosen identity (PUT /v1/identity)")
    else:
        request: dict[str, Any] = {"shipmentId": shipment}
        if invoice:
            request["invoiceNumber"] = invoice
        if supersedes:
            request["supersedes"] = supersedes
        files: dict[str, Any] = dict(_bom_files(bom))
        files["issue"] = (None, json.dumps(request))
        answer = _call(server, "POST", "/v1/tokens", api_key, files=files).json()
    if as_json:
        _print_json({k: answer[k] for k in ("tokenDigest", "index", "supersedes", "links")})
        return
    say(console(), f"issued token {answer['tokenDigest']} (log index {answer['index']})",
        "bold green")
    say(console(), f"  verify: {answer['links']['verify']}")


def _signed_here(server: str, api_key: str | None, bom_path: Path, key_file: Path,
                 shipment: str, invoice: str | None, supersedes: str | None,
                 issuer: str | None = None) -> Any:
    """Determine origin and sign on this machine; the service checks and logs."""
    import base64

    from cli.files import read_bom
    from ledger.errors import InputError
    from ledger.installation import PartyKey
    from ledger.service import sign_token, utc_now
    from ledger.token import TOKEN_CONTEXT, CertifierRole

    if supersedes is not None and len(supersedes) != 64:
        raise InputError("with --key, --supersedes takes the full 64-digit token digest "
                         "(it goes into the statement you sign)")
    key = PartyKey.load(key_file)
    bom = read_bom(str(bom_path))
    now = utc_now()
    certification = key.certification(CertifierRole.PRODUCER, bom.producer, invoice=invoice,
                                      signed_on=now.date())
    prepared = sign_token(bom, certification, shipment_id=shipment, key=key.key,
                          created=now.strftime("%Y-%m-%dT%H:%M:%SZ"), supersedes=supersedes,
                          context=TOKEN_CONTEXT, issuer=issuer)
    ((_, records),) = prepared.disclosures
    answer = _call(server, "POST", "/v1/tokens/signed", api_key, json={
        "token": prepared.token, "statement": prepared.statement,
        "disclosureRecords": base64.b64encode(records).decode("ascii")}).json()
    return answer


@remote_app.command("precheck")
@handle_errors
def remote_precheck(
    tokens: Annotated[list[str], typer.Argument(metavar="DIGEST...")], server: Server,
    api_key: ApiKey = None,
    tolerance: Annotated[str, typer.Option(help="RVC points above the threshold required.")]
    = "0",
    as_json: Json = False,
) -> None:
    """Go / no-go per shipment: exit 0 when every one is go, 1 otherwise."""
    answer = _call(server, "POST", "/v1/precheck", api_key, json={
        "shipments": [{"token": t} for t in tokens], "tolerance": tolerance}).json()
    if as_json:
        _print_json(answer)
    else:
        table = Table(title="Pre-check", title_justify="left")
        for column in ("token", "shipment", "go", "reasons"):
            table.add_column(column)
        for asked, row in zip(tokens, answer["shipments"], strict=True):
            reasons = "; ".join(f"{r['reason']}: {r['detail']}" for r in row["reasons"])
            table.add_row(text(asked[:16]), text(str(row["shipmentId"] or "")),
                          "GO" if row["go"] else "NO-GO", text(reasons))
        console().print(table)
    if answer["noGo"]:
        raise typer.Exit(REJECT)


@remote_app.command("verify")
@handle_errors
def remote_verify(bundle: Annotated[Path, typer.Argument(metavar="BUNDLE")], server: Server,
                  as_json: Json = False) -> None:
    """Verify a bundle at the service (no key needed): exit 0 clear, 5 review, 1 reject."""
    answer = _call(server, "POST", "/v1/verify", None, content=bundle.read_bytes(),
                   headers={"Content-Type": "application/json"}).json()
    result = Verification.from_dict(answer)
    if as_json:
        _print_json(result.to_dict())
    else:
        render_verification(console(), result)
    raise typer.Exit(DECISION_EXIT[Decision(result.decision)])


@remote_app.command("identity")
@handle_errors
def remote_identity(
    server: Server,
    method: Annotated[str | None, typer.Argument(
        metavar="[did:key|did:web]", help="Choose this identity from the next token on; "
        "without it, show the current one.")] = None,
    api_key: ApiKey = None,
    as_json: Json = False,
) -> None:
    """The identity your party's tokens name as issuer, or choose did:key or did:web.

    The service's held key signs under it (GET / PUT /v1/identity); tokens already issued
    keep theirs. did:web needs the service at the root of a host (TMEC_PUBLIC_URL).
    """
    if method is None:
        answer = _call(server, "GET", "/v1/identity", api_key).json()
    elif method in ("did:key", "did:web"):
        answer = _call(server, "PUT", "/v1/identity", api_key, json={"method": method}).json()
    else:
        from ledger.errors import InputError

        raise InputError(f"the identity is did:key or did:web, not {method[:40]!r}")
    if as_json:
        _print_json(answer)
        return
    issuer = answer["issuer"] or "each token names the did:key of the key that signs it"
    say(console(), f"{answer['party']} issues as {answer['method']}: {issuer}")


@remote_app.command("export")
@handle_errors
def remote_export(
    party: Annotated[str, typer.Option(help="The party whose records to export.")],
    out: Annotated[Path, typer.Option(help="The export file to write (JSON Lines).")],
    server: Server, api_key: ApiKey = None,
    since: Annotated[str | None, typer.Option("--from", metavar="YYYY-MM-DD", help="Only "
                                              "tokens logged on or after this day (UTC).")
                     ] = None,
    until: Annotated[str | None, typer.Option("--to", metavar="YYYY-MM-DD", help="Only "
                                              "tokens logged on or before this day (UTC).")
                     ] = None,
) -> None:
    """Download a party's verifiable export, of a period if given (then `tmec audit
    verify` it anywhere).
    """
    import httpx

    from cli.audit_cli import parse_day
    from ledger.audit_export import ExportPeriod

    bounds = ExportPeriod(parse_day(since, "--from"), parse_day(until, "--to")).to_dict()
    partial = out.with_name(out.name + ".partial")
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        with httpx.stream("GET", f"{server.rstrip('/')}/v1/parties/{party}/export",
                          params={k: v for k, v in bounds.items() if v}, headers=headers,
                          timeout=120) as response:
            if response.status_code != 200:
                response.read()
                problem = response.json() if response.headers.get(
                    "content-type", "").startswith("application/problem+json") else {}
                raise fail(str(problem.get("code", "internal")),
                           str(problem.get("detail", f"HTTP {response.status_code}")))
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes():
                    handle.write(chunk)
    except httpx.TransportError as exc:
        raise typer.Exit(UNAVAILABLE) from exc
    partial.replace(out)
    say(console(), f"exported party {party} to {out}")


def register(app: typer.Typer) -> None:
    """Attach `remote` to the main `tmec` app."""
    app.add_typer(remote_app, name="remote")
