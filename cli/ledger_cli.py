"""`tmec` commands of the ledger: keys, tokens, the log, revocation and verification.

Each command reads files, calls `ledger.service.Ledger` or `ledger.verify.verify`, and
prints a Rich report or JSON. The workspace (``--home`` / ``TMEC_HOME``) holds the SQLite
ledger, the log and witness keys, the trust file and party keys (see `cli.workspace`).
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cli.errors import INTEGRITY, handle_errors
from cli.files import date_option, read_bom
from cli.render import print_json as _print_json
from cli.workspace import PartyKey, Workspace
from ledger.canonical import parse_json
from ledger.config import Settings
from ledger.errors import InputError, NotFoundError
from ledger.service import Ledger, utc_now
from ledger.token import (
    BlanketPeriod,
    Certification,
    Certifier,
    CertifierRole,
    Party,
    parse_token,
    supplier_token_digests,
    token_digest,
)
from ledger.verify import Verification, verify

__all__ = ["keys_app", "log_app", "register", "token_app"]

keys_app = typer.Typer(help="Party keys, registered through the log.", no_args_is_help=True)
token_app = typer.Typer(help="Origin tokens: issue, show, bundle.", no_args_is_help=True)
log_app = typer.Typer(help="The append-only log: checkpoints, proofs, audit.",
                      no_args_is_help=True)

#: Exit codes of `tmec verify` (the rest of the table is in cli.errors).
DECISION_EXIT = {"clear": 0, "reject": 1, "review": 5}

Home = Annotated[str | None, typer.Option("--home", help="Ledger working directory "
                                          "[env TMEC_HOME; default ./var/ledger]")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _workspace(home: str | None) -> Workspace:
    return Workspace(Settings.from_env(home=home))


def _console() -> Console:
    return Console(highlight=False, emoji=False, soft_wrap=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# ----------------------------------------------------------------------------- init


def init(
    home: Home = None,
    witnesses: Annotated[str, typer.Option(help="Comma-separated witness names.")] =
    "cbp,cbsa,anam",
    quorum: Annotated[int, typer.Option(help="Cosignatures a verifier requires.")] = 2,
    max_age: Annotated[int, typer.Option("--max-age", help="Seconds a checkpoint stays "
                                         "fresh for verifiers.")] = 86400,
) -> None:
    """Create the log key, one key per witness and the trust file (idempotent)."""
    workspace = _workspace(home)
    names = tuple(n.strip() for n in witnesses.split(",") if n.strip())
    workspace.init(witnesses=names, quorum=quorum, max_age_seconds=max_age)
    console = _console()
    console.print(f"ledger workspace {workspace.home} (origin {workspace.settings.origin})")
    console.print(f"trust file: {workspace.trust_path}")


# ----------------------------------------------------------------------------- keys


@keys_app.command("new")
@handle_errors
def keys_new(
    party_id: Annotated[str, typer.Option("--party-id", help="Short id, e.g. frenos-bajio.")],
    name: Annotated[str, typer.Option(help="Legal name of the party.")],
    country: Annotated[str, typer.Option(help="MX, US or CA.")],
    address: Annotated[str, typer.Option(help="Address (Annex 5-A).")],
    email: Annotated[str, typer.Option(help="E-mail of the certifier.")],
    phone: Annotated[str, typer.Option(help="Telephone of the certifier.")],
    contact: Annotated[str | None, typer.Option(help="Certifier's name (default: the "
                                                "party name).")] = None,
    title: Annotated[str, typer.Option(help="Certifier's title.")] = "Authorized signatory",
    tax_id: Annotated[str | None, typer.Option("--tax-id")] = None,
    out: Annotated[Path | None, typer.Option(help="Key file (default keys/<party-id>.json).")]
    = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Generate a party key, save it privately and register it in the log."""
    workspace = _workspace(home)
    ledger = workspace.open_ledger(with_witnesses=False)
    party = {"id": party_id, "name": name, "country": country, "address": address,
             "email": email, "phone": phone, "contact": contact or name, "title": title}
    if tax_id:
        party["tax_id"] = tax_id
    key = workspace.new_party_key(party, out)
    public = {k: v for k, v in party.items() if k in ("id", "name", "country")}
    kid, index = ledger.register_key(key.key, public)
    if as_json:
        _print_json({"kid": kid, "index": index, "keyFile": str(key.path)})
    else:
        _console().print(f"registered {kid}\n  at log index {index}; key file {key.path}")


@keys_app.command("rotate")
@handle_errors
def keys_rotate(
    key_file: Annotated[Path, typer.Option("--key", help="The current key file.")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Replace a key by a new one (signed by the old key, possession proved by the new)."""
    workspace = _workspace(home)
    ledger = workspace.open_ledger(with_witnesses=False)
    old = PartyKey.load(key_file)
    new = workspace.replace_party_key(old)
    kid, index = ledger.rotate_key(old.key, new.key)
    if as_json:
        _print_json({"kid": kid, "replaces": old.kid, "index": index, "keyFile": str(new.path)})
    else:
        _console().print(f"rotated to {kid}\n  at log index {index}; key file {new.path}")


@keys_app.command("list")
@handle_errors
def keys_list(home: Home = None, as_json: Json = False) -> None:
    """Every key the log has recorded, with its state."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    records = ledger.keys().keys.values()
    size = ledger.size
    rows: list[dict[str, Any]] = [{"kid": r.kid, "party": r.party_id, "name": r.party.get("name"),
             "added": r.added_at, "retired": r.retired_at,
             "compromisedSince": r.compromised_since,
             "status": "retired" if r.status_at(size + 1) == "revoked"
             else r.status_at(size + 1)} for r in records]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Keys in the log (size {size})", title_justify="left")
    for column in ("party", "key id", "added", "retired", "compromised since", "now"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row["party"]), str(row["kid"])[:32] + "...", str(row["added"]),
                      str(row["retired"] or ""), str(row["compromisedSince"] or ""),
                      str(row["status"]))
    _console().print(table)


# ----------------------------------------------------------------------------- tokens


def _certification(key: PartyKey, role: CertifierRole, bom_producer: Any,
                   blanket: BlanketPeriod | None, invoice: str | None,
                   importer: Party | None) -> Certification:
    party = key.party
    certifier = Certifier(name=str(party.get("contact") or party["name"]),
                          title=str(party.get("title") or "Authorized signatory"),
                          address=str(party["address"]), country=str(party["country"]),
                          phone=str(party["phone"]), email=str(party["email"]))
    me = Party(name=str(party["name"]), address=str(party["address"]),
               country=str(party["country"]), email=str(party["email"]),
               phone=str(party["phone"]), tax_id=party.get("tax_id"))
    producer: Party | None = None
    exporter: Party | None = None
    if role is CertifierRole.PRODUCER:
        exporter = me
    elif role is CertifierRole.EXPORTER:
        exporter = me
        if bom_producer is not None:
            producer = Party(name=bom_producer.name, address="Available upon request",
                             country=bom_producer.country, tax_id=bom_producer.tax_id)
    return Certification(role=role, certifier=certifier, producer=producer,
                         signature_date=utc_now().date(), exporter=exporter,
                         importer=importer, blanket_period=blanket, invoice_number=invoice)


@token_app.command("issue")
@handle_errors
def token_issue(
    bom_file: Annotated[str, typer.Argument(metavar="BOM", help="tmec-bom/1 JSON, CSV or "
                                            "Excel BOM.")],
    key_file: Annotated[Path, typer.Option("--key", help="The certifier's key file.")],
    shipment: Annotated[str, typer.Option(help="Shipment (or programme) reference.")],
    role: Annotated[CertifierRole, typer.Option(help="Annex 5-A element 1.")] =
    CertifierRole.PRODUCER,
    blanket_from: Annotated[str | None, typer.Option("--blanket-from", help="Blanket "
                                                     "period start (YYYY-MM-DD).")] = None,
    blanket_to: Annotated[str | None, typer.Option("--blanket-to", help="Blanket period end "
                                                   "(at most 12 months).")] = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice number (single shipment).")]
    = None,
    importer_name: Annotated[str | None, typer.Option("--importer-name")] = None,
    importer_address: Annotated[str | None, typer.Option("--importer-address")] = None,
    importer_country: Annotated[str | None, typer.Option("--importer-country")] = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Determine origin, sign the token, log it and publish a checkpoint."""
    workspace = _workspace(home)
    ledger = workspace.open_ledger()
    key = PartyKey.load(key_file)
    bom = read_bom(bom_file)
    start = date_option(blanket_from, "--blanket-from", InputError)
    end = date_option(blanket_to, "--blanket-to", InputError)
    if (start is None) != (end is None):
        raise InputError("a blanket period needs both --blanket-from and --blanket-to")
    blanket = BlanketPeriod(start, end) if start and end else None
    importer = None
    if importer_name:
        if not (importer_address and importer_country):
            raise InputError("--importer-name needs --importer-address and --importer-country")
        importer = Party(importer_name, importer_address, importer_country)
    certification = _certification(key, role, bom.producer, blanket, invoice, importer)
    result = ledger.issue_token(bom, certification, shipment_id=shipment, key=key.key)
    token_path, parts_path = workspace.save_token(result.digest, result.token,
                                                  result.commitment)
    checkpoint = ledger.publish_checkpoint()
    if as_json:
        _print_json({"tokenDigest": result.digest, "index": result.index,
                     "token": str(token_path), "parts": str(parts_path),
                     "checkpoint": checkpoint})
        return
    console = _console()
    console.print(Text(f"issued token {result.digest}", style="bold green"))
    console.print(f"  log index {result.index}; token {token_path}")
    console.print(f"  disclosure data (keep private): {parts_path}")
    console.print(f"  checkpoint: {checkpoint.splitlines()[0]} size "
                  f"{checkpoint.splitlines()[1]}")


def _load_token(ledger: Ledger, ref: str) -> tuple[str, dict[str, Any]]:
    path = Path(ref)
    if path.is_file():
        token = parse_token(path.read_bytes())
        return token_digest(token), token
    return ref, ledger.token(ref)


@token_app.command("show")
@handle_errors
def token_show(
    ref: Annotated[str, typer.Argument(metavar="DIGEST|FILE")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Show a token: who certified what, the determination, and its status in the log."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    digest, token = _load_token(ledger, ref)
    status = ledger.token_status(digest)
    if as_json:
        _print_json({"tokenDigest": digest, "status": status, "token": token})
        return
    subject = token["credentialSubject"]
    determination = subject["determination"]
    console = _console()
    console.print(Text(f"token {digest}", style="bold"))
    lines = [
        f"shipment: {subject['shipmentId']}",
        f"good: {subject['good']['description']} (HS {subject['good']['hsCode']})",
        f"certifier: {subject['certifier']['name']} ({subject['certifierRole']}), issuer "
        f"{token['issuer']}",
        f"origin criterion: {subject['originCriterion']}; rule set {determination['ruleSet']}, "
        f"as of {determination['asOf']}",
        f"valid: {token.get('validFrom')} .. {token.get('validUntil', 'single shipment')}",
        f"parts committed: {subject['partsCount']} (root {subject['partsRoot'][:16]}...)",
        "supplier tokens: " + (", ".join(d[:16] + "..." for d in supplier_token_digests(token))
                               or "none"),
        f"log: index {status['index']}, token {status['token']}, key {status['key']}",
    ]
    for line in lines:
        console.print(f"  {line}", markup=False)
    for r in determination["results"]:
        console.print(f"  {r['method']}: base {r['base']} VNM {r['vnm']} RVC {r['rvc']} % "
                      f"(threshold {r['threshold']}) {'pass' if r['pass'] else 'fail'}",
                      markup=False)


def _bundle_with_suppliers(ledger: Ledger, workspace: Workspace, digest: str,
                           disclose: list[int] | None, depth: int = 0) -> dict[str, Any]:
    token = ledger.token(digest)
    suppliers = {}
    if depth < 8:
        for supplier in supplier_token_digests(token):
            suppliers[supplier] = _bundle_with_suppliers(ledger, workspace, supplier, None,
                                                         depth + 1)
    commitment = workspace.commitment(digest) if disclose is not None else None
    return ledger.bundle(digest, commitment=commitment, disclose_lines=disclose,
                         suppliers=suppliers or None)


@token_app.command("bundle")
@handle_errors
def token_bundle(
    digest: Annotated[str, typer.Argument(metavar="DIGEST")],
    out: Annotated[Path, typer.Option(help="Where to write the bundle JSON.")],
    disclose: Annotated[str | None, typer.Option(help="'all' or comma-separated line "
                                                 "numbers to disclose (issuer only).")] = None,
    suppliers: Annotated[bool, typer.Option("--suppliers/--no-suppliers", help="Nest the "
                                            "bundles of supplier tokens.")] = True,
    home: Home = None,
) -> None:
    """Write the offline verification bundle of a token (status + fresh checkpoint)."""
    workspace = _workspace(home)
    ledger = workspace.open_ledger()
    lines: list[int] | None = None
    if disclose is not None:
        if disclose == "all":
            lines = list(range(workspace.commitment(digest).count))
        else:
            try:
                lines = [int(n) for n in disclose.split(",") if n.strip()]
            except ValueError:
                raise InputError("--disclose takes 'all' or line numbers like 0,3,4") from None
    if suppliers:
        bundle = _bundle_with_suppliers(ledger, workspace, digest, lines)
    else:
        commitment = workspace.commitment(digest) if lines is not None else None
        bundle = ledger.bundle(digest, commitment=commitment, disclose_lines=lines)
    text = json.dumps(bundle, indent=1, ensure_ascii=False) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    _console().print(f"wrote {out} ({len(text.encode())} bytes)")


# ----------------------------------------------------------------------------- log


@log_app.command("checkpoint")
@handle_errors
def log_checkpoint(home: Home = None, as_json: Json = False) -> None:
    """Publish a checkpoint of the log, cosigned by the witnesses."""
    ledger = _workspace(home).open_ledger()
    text = ledger.publish_checkpoint()
    if as_json:
        _print_json({"size": ledger.size, "checkpoint": text})
    else:
        sys.stdout.write(text)


@log_app.command("prove")
@handle_errors
def log_prove(
    ref: Annotated[str | None, typer.Argument(metavar="[DIGEST]", help="Token digest.")] = None,
    index: Annotated[int | None, typer.Option(help="Entry index instead of a digest.")] = None,
    size: Annotated[int | None, typer.Option(help="Tree size (default: latest checkpoint).")]
    = None,
    home: Home = None,
) -> None:
    """Inclusion proof of an entry (RFC 9162), as JSON."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    if (ref is None) == (index is None):
        raise InputError("give a token digest or --index, not both")
    entry_index = ledger.token_index(ref) if ref is not None else index
    assert entry_index is not None
    checkpoint_size, checkpoint = ledger.latest_checkpoint()
    tree_size = size if size is not None else checkpoint_size
    entry = ledger.entry(entry_index)
    _print_json({
        "index": entry_index, "treeSize": tree_size,
        "leafHash": _b64(entry.leaf_hash),
        "rootHash": _b64(ledger.root(tree_size)),
        "proof": [_b64(h) for h in ledger.inclusion_proof(entry_index, tree_size)],
        "statement": parse_json(entry.body),
        "checkpoint": checkpoint if tree_size == checkpoint_size else None,
    })


@log_app.command("consistency")
@handle_errors
def log_consistency(
    old: Annotated[int, typer.Argument(metavar="OLD_SIZE")],
    new: Annotated[int | None, typer.Argument(metavar="[NEW_SIZE]")] = None,
    home: Home = None,
) -> None:
    """Consistency proof between two tree sizes (RFC 9162), as JSON."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    ledger.sync()
    size = new if new is not None else ledger.size
    _print_json({"oldSize": old, "newSize": size, "oldRoot": _b64(ledger.root(old)),
                 "newRoot": _b64(ledger.root(size)),
                 "proof": [_b64(h) for h in ledger.consistency_proof(old, size)]})


@log_app.command("audit")
@handle_errors
def log_audit(home: Home = None, as_json: Json = False) -> None:
    """Recheck every stored entry, token and checkpoint against what the log committed to."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    report = ledger.audit()
    if as_json:
        _print_json({"ok": report.ok, "size": report.size, "checkpoints": report.checkpoints,
                     "problems": report.problems})
    else:
        console = _console()
        for problem in report.problems:
            console.print(f"PROBLEM {problem}", markup=False)
        console.print(f"audited {report.size} entries and {report.checkpoints} checkpoint(s): "
                      + ("OK" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise typer.Exit(INTEGRITY)


# ----------------------------------------------------------------------------- revoke


@handle_errors
def revoke(
    digest: Annotated[str | None, typer.Argument(metavar="[TOKEN_DIGEST]")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Revoke this key instead of "
                                               "a token.")] = None,
    compromised_since: Annotated[int | None, typer.Option(
        "--compromised-since", help="With --key-id: tokens logged from this index on are "
                                    "void.")] = None,
    key_file: Annotated[Path | None, typer.Option("--key", help="Sign with this party key "
                                                  "(default: the registrar).")] = None,
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")] = "revoked",
    home: Home = None,
) -> None:
    """Revoke a token, or a key (optionally as compromised since a log index)."""
    ledger = _workspace(home).open_ledger()
    signer = PartyKey.load(key_file).key if key_file else None
    if (digest is None) == (key_id is None):
        raise InputError("give a token digest or --key-id")
    if digest is not None:
        if compromised_since is not None:
            raise InputError("--compromised-since applies to keys (--key-id)")
        index = ledger.revoke_token(digest, signer=signer, reason=reason)
        what = f"token {digest}"
    else:
        assert key_id is not None
        index = ledger.revoke_key(key_id, signer=signer, reason=reason,
                                  compromised_since=compromised_since)
        what = f"key {key_id}"
    ledger.publish_checkpoint()
    _console().print(f"revoked {what} at log index {index}", markup=False)


@handle_errors
def supersede(
    old: Annotated[str, typer.Argument(metavar="OLD_DIGEST")],
    new: Annotated[str, typer.Argument(metavar="NEW_DIGEST")],
    key_file: Annotated[Path, typer.Option("--key", help="The issuer's key file.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")] = "corrected",
    home: Home = None,
) -> None:
    """Record that a corrected token replaces an earlier one."""
    ledger = _workspace(home).open_ledger()
    index = ledger.supersede_token(old, new, signer=PartyKey.load(key_file).key, reason=reason)
    ledger.publish_checkpoint()
    _console().print(f"{new} supersedes {old} at log index {index}", markup=False)


# ----------------------------------------------------------------------------- verify


def render_verification(console: Console, result: Verification) -> None:
    """Checks table and the decision."""
    style = {"clear": "bold green", "review": "bold yellow", "reject": "bold red"}
    table = Table(title="Checks", title_justify="left")
    for column in ("check", "outcome", "detail"):
        table.add_column(column)
    colours = {"pass": "green", "fail": "red", "warn": "yellow", "skip": "dim"}
    for check in result.checks:
        table.add_row(check.name, Text(check.outcome, style=colours[check.outcome]),
                      Text(check.detail))
    console.print(table)
    if result.shipment_id:
        console.print(f"shipment {result.shipment_id}, token {result.token_digest}",
                      markup=False)
    console.print(Text(f"DECISION: {result.decision.upper()}", style=style[result.decision]))


@handle_errors
def verify_command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE")],
    trust: Annotated[Path | None, typer.Option(help="Trust file (default: the workspace's "
                                               "trust.json).")] = None,
    at: Annotated[str | None, typer.Option(help="Verify as of this time (ISO 8601, UTC); "
                                           "default now.")] = None,
    as_json: Json = False,
    home: Home = None,
) -> None:
    """Verify a bundle offline: exit 0 clear, 5 review, 1 reject."""
    trust_file = _workspace(home).trust(trust)
    moment = utc_now()
    if at is not None:
        try:
            moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"--at must be an ISO 8601 time, got {at!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    try:
        data = bundle.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"no bundle file {bundle}") from None
    result = verify(data, trust_file, now=int(moment.timestamp()))
    if as_json:
        _print_json(result.to_dict())
    else:
        render_verification(_console(), result)
    raise typer.Exit(DECISION_EXIT[result.decision])


@handle_errors
def demo(
    out: Annotated[Path, typer.Option(help="Directory to create the demo in.")],
    examples: Annotated[Path | None, typer.Option(help="Directory of the example BOMs "
                                                  "(default: the repository's).")] = None,
) -> None:
    """Build a demo ledger from the example BOMs, with bundles and a trust file."""
    from cli.demo import EXAMPLES, run_demo

    results = run_demo(out, examples or EXAMPLES)
    table = Table(title=f"Demo ledger in {out / 'ledger'}", title_justify="left")
    for column in ("bundle", "token", "log index", "bytes", "verify"):
        table.add_column(column)
    for r in results:
        table.add_row(str(r.bundle), r.digest[:16] + "...", str(r.index), str(r.size),
                      r.decision)
    console = _console()
    console.print(table)
    console.print(f"trust file: {out / 'trust.json'}")
    console.print(f"try: tmec verify {results[0].bundle} --trust {out / 'trust.json'}")
    if any(r.decision != "clear" for r in results):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach the ledger commands to the main `tmec` app."""
    app.command("init")(handle_errors(init))
    app.add_typer(keys_app, name="keys")
    app.add_typer(token_app, name="token")
    app.add_typer(log_app, name="log")
    app.command("revoke")(revoke)
    app.command("supersede")(supersede)
    app.command("verify")(verify_command)
    app.command("demo")(demo)
