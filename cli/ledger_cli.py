"""`tmec` commands of the ledger: keys, tokens, the log, revocation and verification.

Each command reads files, calls `ledger.service.Ledger` or `ledger.verify.verify`, and
prints a Rich report or JSON. The workspace (``--home`` / ``TMEC_HOME``) holds the SQLite
ledger, the log and witness keys, the trust file and party keys (see `ledger.installation`).
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.errors import INTEGRITY, OK, REJECT, REVIEW, handle_errors
from cli.files import date_option, read_bom
from cli.render import console, say, text
from cli.render import print_json as _print_json
from ledger.bundle import BUNDLE_FORMAT
from ledger.canonical import parse_json
from ledger.config import Settings
from ledger.copies import CopyKind, sign_copy
from ledger.crypto import SigningKey
from ledger.enveloped import MEDIA_TYPE
from ledger.errors import ConflictError, InputError, LedgerError
from ledger.installation import PartyKey, Workspace, max_bundle_bytes, read_small_file
from ledger.service import Ledger, utc_now
from ledger.static_tiles import write_static_tiles
from ledger.token import (
    BlanketPeriod,
    CertifierRole,
    Party,
    check_party_profile,
    parse_token,
    supplier_token_digests,
    token_digest,
)
from ledger.verify import Decision, Outcome, Verification, verification_time, verify

__all__ = ["keys_app", "log_app", "register", "token_app"]

keys_app = typer.Typer(help="Party keys, registered through the log.", no_args_is_help=True,
                       rich_markup_mode=None)
token_app = typer.Typer(help="Origin tokens: issue, show, bundle, jwt.", no_args_is_help=True,
                        rich_markup_mode=None)
log_app = typer.Typer(help="The append-only log: checkpoints, proofs, audit.",
                      no_args_is_help=True, rich_markup_mode=None)

#: Exit codes of `tmec verify` (the rest of the table is in cli.errors).
DECISION_EXIT = {Decision.CLEAR: OK, Decision.REJECT: REJECT, Decision.REVIEW: REVIEW}

Home = Annotated[str | None, typer.Option("--home", metavar="DIR", help="Ledger workspace "
                                          "[env TMEC_HOME; default ./var/ledger]")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Digest = Annotated[str, typer.Argument(metavar="DIGEST", help="Token digest or a unique "
                                       "prefix of at least 8 hex digits.")]


def _workspace(home: str | None) -> Workspace:
    return Workspace(Settings.from_env(home=home))


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
    public_url: Annotated[str | None, typer.Option(
        "--public-url", metavar="URL", help="The service's public URL (TMEC_PUBLIC_URL, at "
        "the root of a host): the trust file then names its did:web host, so parties may "
        "issue as did:web:<host>:parties:<party>.")] = None,
) -> None:
    """Create the workspace: log key, one key per witness, trust file, database (idempotent).

    The only command that creates a workspace; every other one needs an existing one.
    """
    from ledger.did_web import did_web_host

    workspace = _workspace(home)
    names = tuple(n.strip() for n in witnesses.split(",") if n.strip())
    existed = workspace.initialised()
    try:
        host = None if public_url is None else did_web_host(public_url.rstrip("/"))
    except LedgerError as exc:
        raise InputError(f"--public-url: {exc}") from None
    workspace.init(witnesses=names, quorum=quorum, max_age_seconds=max_age,
                   did_web_host=host)
    out = console()
    say(out, f"ledger workspace {workspace.home} (origin {workspace.settings.origin})"
             + (": it existed; its keys and trust file are kept as they were" if existed
                else ""))
    say(out, f"trust file: {workspace.trust_path}")


# ----------------------------------------------------------------------------- keys


def _profile(party_id: str, name: str, country: str, address: str, email: str, phone: str,
             contact: str | None, title: str, tax_id: str | None) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": party_id, "name": name, "country": country,
                               "address": address, "email": email, "phone": phone,
                               "contact": contact or name, "title": title}
    if tax_id:
        profile["tax_id"] = tax_id
    check_party_profile(profile)
    return profile


def _public(profile: dict[str, Any]) -> dict[str, str]:
    """What the log records of a party: id, name, country (no contact details)."""
    return {k: str(profile[k]) for k in ("id", "name", "country")}


PartyId = Annotated[str, typer.Option("--party-id", help="Short id: lowercase letters, digits "
                                      "and '-', e.g. frenos-bajio.")]
Name = Annotated[str, typer.Option(help="Legal name of the party.")]
Country = Annotated[str, typer.Option(help="MX, US or CA.")]
Address = Annotated[str, typer.Option(help="Address (Annex 5-A).")]
Email = Annotated[str, typer.Option(help="E-mail of the certifier.")]
Phone = Annotated[str, typer.Option(help="Telephone of the certifier.")]
Contact = Annotated[str | None, typer.Option(help="Certifier's name (default: the party "
                                             "name).")]
Title = Annotated[str, typer.Option(help="Certifier's title.")]
TaxId = Annotated[str | None, typer.Option("--tax-id")]
Out = Annotated[Path | None, typer.Option(help="Key file (default keys/<party-id>.json).")]


@keys_app.command("new")
@handle_errors
def keys_new(party_id: PartyId, name: Name, country: Country, address: Address, email: Email,
             phone: Phone, contact: Contact = None, title: Title = "Authorized signatory",
             tax_id: TaxId = None, out: Out = None, home: Home = None,
             as_json: Json = False) -> None:
    """Register a new party: generate its first key, save it privately, log it.

    A party the log already knows gets a new key only by rotation ('tmec keys rotate')
    or by the registrar's admission ('tmec keys admit').
    """
    workspace = _workspace(home)
    ledger = workspace.open_ledger(with_witnesses=False)
    profile = _profile(party_id, name, country, address, email, phone, contact, title, tax_id)
    known = ledger.keys().party_keys(party_id)
    if known:
        raise ConflictError(
            f"party {party_id} is already registered (key {known[-1].kid}, entry "
            f"{known[-1].added_at}): rotate its key with 'tmec keys rotate --key FILE', or, "
            f"as the registrar, admit a new key with 'tmec keys admit --party-id {party_id} "
            "...'")
    key, kid, index = _new_logged_key(workspace, profile, out, ledger.register_key)
    _report_key(kid, index, key, "registered", as_json)


@keys_app.command("admit")
@handle_errors
def keys_admit(party_id: PartyId, name: Name, country: Country, address: Address,
               email: Email, phone: Phone, contact: Contact = None,
               title: Title = "Authorized signatory", tax_id: TaxId = None, out: Out = None,
               home: Home = None, as_json: Json = False) -> None:
    """Registrar: admit a new key for a party, known or new (signed with the log key).

    The way back for a party whose keys were revoked or lost: the registrar checks who
    asks, then logs the key; an existing key file of that name is kept as <name>.<n>.json.
    """
    workspace = _workspace(home)
    ledger = workspace.open_ledger(with_witnesses=False)
    profile = _profile(party_id, name, country, address, email, phone, contact, title, tax_id)
    target = out or workspace.home / "keys" / f"{party_id}.json"
    workspace.archive_key_file(target)
    key, kid, index = _new_logged_key(workspace, profile, target, ledger.admit_key)
    _report_key(kid, index, key, "admitted by the registrar", as_json)


def _new_logged_key(workspace: Workspace, profile: dict[str, Any], path: Path | None,
                    log: Callable[[SigningKey, dict[str, str]], tuple[str, int]]
                    ) -> tuple[PartyKey, str, int]:
    """Save a new key privately, then log it; a key the log refuses leaves no file."""
    key = workspace.new_party_key(profile, path)
    try:
        kid, index = log(key.key, _public(profile))
    except LedgerError:
        key.discard()
        raise
    return key, kid, index


def _report_key(kid: str, index: int, key: PartyKey, what: str, as_json: bool) -> None:
    if as_json:
        _print_json({"kid": kid, "index": index, "keyFile": str(key.path)})
    else:
        out = console()
        say(out, f"{what}: {kid}")
        say(out, f"  at log index {index}; key file {key.path}")


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
    ledger.keys().require_valid(old.kid, ledger.size)  # before any file moves
    new = workspace.replace_party_key(old)
    kid, index = ledger.rotate_key(old.key, new.key)
    if as_json:
        _print_json({"kid": kid, "replaces": old.kid, "index": index, "keyFile": str(new.path)})
    else:
        out = console()
        say(out, f"rotated to {kid}")
        say(out, f"  at log index {index}; key file {new.path}")


@keys_app.command("list")
@handle_errors
def keys_list(home: Home = None, as_json: Json = False) -> None:
    """Every key the log has recorded, with its state."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    records = ledger.keys().keys.values()
    size = ledger.size
    rows = [record.summary(size) for record in records]
    if as_json:
        _print_json(rows)
        return
    table = Table(title=f"Keys in the log (size {size})", title_justify="left")
    for column in ("party", "key id", "added", "retired", "compromised since", "now"):
        table.add_column(column)
    for row in rows:
        table.add_row(text(row["party"]), text(str(row["kid"])[:32] + "..."),
                      str(row["added"]), str(row["retired"] or ""),
                      str(row["compromisedSince"] or ""), str(row["status"]))
    console().print(table)


# ----------------------------------------------------------------------------- tokens

IssuerDid = Annotated[str | None, typer.Option(
    "--issuer-did", metavar="DID", help="The token's issuer: your key's did:key (the "
    "default) or your party's did:web:<host>:parties:<party> (the host the trust file "
    "names as did_web_host).")]


@token_app.command("issue")
@handle_errors
def token_issue(
    bom_file: Annotated[str, typer.Argument(metavar="BOM", help="tmec-bom/1 JSON, CSV or "
                                            "Excel BOM.")],
    key_file: Annotated[Path, typer.Option("--key", help="The certifier's key file.")],
    shipment: Annotated[str, typer.Option(help="Shipment (or programme) reference.")],
    role: Annotated[CertifierRole, typer.Option(help="Annex 5-A element 1.")] =
    CertifierRole.PRODUCER,
    blanket_from: Annotated[str | None, typer.Option("--blanket-from", metavar="YYYY-MM-DD",
                                                     help="Blanket period start.")] = None,
    blanket_to: Annotated[str | None, typer.Option("--blanket-to", metavar="YYYY-MM-DD",
                                                   help="Blanket period end (at most 12 "
                                                   "months).")] = None,
    invoice: Annotated[str | None, typer.Option(help="Invoice number (single shipment).")]
    = None,
    importer_name: Annotated[str | None, typer.Option("--importer-name")] = None,
    importer_address: Annotated[str | None, typer.Option("--importer-address")] = None,
    importer_country: Annotated[str | None, typer.Option("--importer-country")] = None,
    supersedes: Annotated[str | None, typer.Option(metavar="DIGEST", help="This token "
                                                   "corrects that one (same party; it "
                                                   "becomes superseded).")] = None,
    issuer_did: IssuerDid = None,
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Determine origin, sign the token, log it and publish a checkpoint.

    One active token per shipment: a second 'token issue' for the same --shipment is
    refused; a corrected token names the one it replaces with --supersedes.
    """
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
    replaced = ledger.resolve_token(supersedes) if supersedes is not None else None
    certification = key.certification(role, bom.producer, blanket=blanket, invoice=invoice,
                                      importer=importer, signed_on=utc_now().date())
    result = ledger.issue_token(bom, certification, shipment_id=shipment, key=key.key,
                                supersedes=replaced, issuer=issuer_did)
    token_path = workspace.save_token(result.digest, result.token)
    checkpoint = ledger.publish_checkpoint()
    if as_json:
        _print_json({"tokenDigest": result.digest, "index": result.index,
                     "token": str(token_path), "supersedes": replaced,
                     "checkpoint": checkpoint})
        return
    out = console()
    say(out, f"issued token {result.digest}", "bold green")
    say(out, f"  log index {result.index}; token {token_path}")
    if replaced:
        say(out, f"  supersedes {replaced}")
    say(out, f"  checkpoint: {checkpoint.splitlines()[0]} size {checkpoint.splitlines()[1]}")


def _load_token(ledger: Ledger, ref: str) -> tuple[str, dict[str, Any]]:
    path = Path(ref)
    if path.is_file():
        token = parse_token(read_small_file(path, max_bundle_bytes(), "the token file",
                                            "max_bundle_bytes"))
        return token_digest(token), token
    digest = ledger.resolve_token(ref)
    return digest, ledger.token(digest)


@token_app.command("show")
@handle_errors
def token_show(
    ref: Annotated[str, typer.Argument(metavar="DIGEST|FILE", help="Token digest, a unique "
                                       "prefix of at least 8 hex digits, or a token file.")],
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
    out = console()
    say(out, f"token {digest}", "bold")
    evidence = status["evidence"]
    if status.get("evidenceAffected"):
        evidence += " (" + ", ".join(d[:16] + "..." for d in status["evidenceAffected"]) + ")"
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
        f"log: index {status['index']}, token {status['token']}, key {status['key']}, "
        f"evidence {evidence}",
    ]
    if "supersededBy" in status:
        lines.append(f"superseded by {status['supersededBy']} at entry {status['revocation']}")
    elif "revocation" in status:
        lines.append(f"revoked at entry {status['revocation']}")
    for line in lines:
        say(out, f"  {line}")
    for r in determination["results"]:
        say(out, f"  {r['method']}: base {r['base']} VNM {r['vnm']} RVC {r['rvc']} % "
                 f"(threshold {r['threshold']}) {'pass' if r['pass'] else 'fail'}")


@token_app.command("bundle")
@handle_errors
def token_bundle(
    ref: Digest,
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
    digest = ledger.resolve_token(ref)
    lines: list[int] | None = None
    if disclose is not None:
        if disclose == "all":
            lines = list(range(ledger.commitment(digest).count))
        else:
            try:
                lines = [int(n) for n in disclose.split(",") if n.strip()]
            except ValueError:
                raise InputError("--disclose takes 'all' or line numbers like 0,3,4") from None
    bundle = ledger.fresh_bundle(digest, disclose_lines=lines, with_suppliers=suppliers)
    data = (json.dumps(bundle, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    say(console(), f"wrote {out} ({len(data)} bytes)")


@token_app.command("jwt")
@handle_errors
def token_jwt(
    source: Annotated[Path, typer.Argument(metavar="TOKEN|BUNDLE", help="A token file, or "
                                           "a bundle file (its token).")],
    key: Annotated[Path, typer.Option("--key", help="Your key file: the key that signed "
                                      "the token.")],
    view: Annotated[CopyKind, typer.Option(help="Which copy: the token itself, its "
                                           "traceability view or its UNTP view.")]
    = CopyKind.TOKEN,
    out: Annotated[Path | None, typer.Option(help="Write the JWS here (default: "
                                             "standard output).")] = None,
) -> None:
    """A JOSE copy (application/vc+jwt) of a token you signed, signed again by your key.

    What GET /v1/tokens/{digest}/jwt gives for a key the service holds, made here for a key
    you keep; POST /v1/verify checks it (alone, or beside the bundle). Offline: no ledger.
    """
    data = read_small_file(source, max_bundle_bytes(), "the token file", "max_bundle_bytes")
    parsed = parse_json(data)
    if isinstance(parsed, dict) and parsed.get("format") == BUNDLE_FORMAT:
        parsed = parsed.get("token")
    token = parse_token(parsed if isinstance(parsed, dict) else b"null")
    jwt = sign_copy(view, token, token_digest(token), PartyKey.load(key).key)
    if out is None:
        sys.stdout.write(jwt + "\n")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(jwt + "\n", "ascii")
    say(console(), f"wrote {out} ({len(jwt)} characters, {MEDIA_TYPE})")


# ----------------------------------------------------------------------------- log


@log_app.command("checkpoint")
@handle_errors
def log_checkpoint(home: Home = None, as_json: Json = False) -> None:
    """Publish a checkpoint of the log, cosigned by the witnesses."""
    ledger = _workspace(home).open_ledger()
    signed = ledger.publish_checkpoint()
    if as_json:
        _print_json({"size": ledger.size, "checkpoint": signed})
    else:
        sys.stdout.write(signed)


@log_app.command("prove")
@handle_errors
def log_prove(
    ref: Annotated[str | None, typer.Argument(metavar="[DIGEST]", help="Token digest or a "
                                              "unique prefix.")] = None,
    index: Annotated[int | None, typer.Option(help="Entry index instead of a digest.")] = None,
    size: Annotated[int | None, typer.Option(help="Tree size (default: latest checkpoint).")]
    = None,
    home: Home = None,
) -> None:
    """Inclusion proof of an entry (RFC 9162), as JSON."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    if ref is not None and index is None:
        entry_index = ledger.token_index(ledger.resolve_token(ref))
    elif index is not None and ref is None:
        entry_index = index
    else:
        raise InputError("give a token digest or --index, not both")
    if not 0 <= entry_index < ledger.size:
        raise InputError(f"entry {entry_index} is not in the log, which has {ledger.size} "
                         f"entries (0 to {ledger.size - 1})")
    latest = ledger.store.latest_checkpoint()
    if size is None and (latest is None or latest[0] <= entry_index):
        # This process is its own sequencer: checkpoint the log so the entry is covered.
        ledger.publish_checkpoint()
        latest = ledger.store.latest_checkpoint()
    checkpoint_size, checkpoint = latest if latest is not None else (-1, None)
    tree_size = size if size is not None else checkpoint_size
    if not entry_index < tree_size <= ledger.size:
        raise InputError(f"--size {tree_size}: a tree that contains entry {entry_index} has "
                         f"a size from {entry_index + 1} to {ledger.size} (the log's size)")
    _print_json(ledger.inclusion_document(
        entry_index, tree_size, checkpoint if tree_size == checkpoint_size else None))


@log_app.command("consistency")
@handle_errors
def log_consistency(
    old: Annotated[int, typer.Argument(metavar="OLD_SIZE")],
    new: Annotated[int | None, typer.Argument(metavar="[NEW_SIZE]")] = None,
    home: Home = None,
) -> None:
    """Consistency proof between two tree sizes (RFC 9162), as JSON."""
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    _print_json(ledger.consistency_document(old, new))


@log_app.command("tiles")
@handle_errors
def log_tiles(
    out: Annotated[Path, typer.Option(help="Directory to write the tlog-tiles layout into.")],
    home: Home = None,
    as_json: Json = False,
) -> None:
    """Write the log as static C2SP tlog-tiles files (checkpoint, tile/<L>/<N>, entries).

    The latest checkpoint's tree: every full tile and entry bundle (immutable, cacheable;
    already present ones are kept), the partial tiles of that size, and the checkpoint. Any
    tlog-tiles client can check it; any static web server can serve it.
    """
    ledger = _workspace(home).open_ledger(with_witnesses=False)
    written = write_static_tiles(ledger, out)
    if as_json:
        _print_json({"size": written.size, "tiles": written.tiles,
                     "entryBundles": written.entry_bundles, "kept": written.skipped,
                     "out": str(out)})
        return
    say(console(), f"wrote the tiles of a tree of {written.size} entries to {out}: "
                   f"{written.tiles} tile(s), {written.entry_bundles} entry bundle(s), "
                   f"{written.skipped} kept from before")


@log_app.command("audit")
@handle_errors
def log_audit(home: Home = None, as_json: Json = False,
              processes: Annotated[int | None, typer.Option(
                  "--processes", min=1, help="Processes auditing ranges of a long log at "
                                             "once (default: one per core; 1: this one "
                                             "only).")] = None) -> None:
    """Recheck every entry, token and checkpoint against what the log committed to.

    Every recorded checkpoint is checked (log signature, root, and the cosignatures of the
    witnesses the workspace's trust file names). Exit 8 when anything is wrong.
    """
    workspace = _workspace(home)
    ledger = workspace.open_ledger(with_witnesses=False)
    witnesses = [w.verifier for w in workspace.trust().policy.witnesses]
    report = ledger.audit(witnesses, processes=processes)
    if as_json:
        _print_json({"ok": report.ok, "size": report.size, "checkpoints": report.checkpoints,
                     "problems": report.problems})
    else:
        out = console()
        for problem in report.problems:
            say(out, f"PROBLEM {problem}")
        say(out, f"audited {report.size} entries and {report.checkpoints} checkpoint(s): "
                 + ("OK" if report.ok else f"{len(report.problems)} problem(s)"))
    if not report.ok:
        raise typer.Exit(INTEGRITY)


# ----------------------------------------------------------------------------- revoke


@handle_errors
def revoke(
    ref: Annotated[str | None, typer.Argument(metavar="[TOKEN_DIGEST]")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="Revoke this key instead of "
                                               "a token.")] = None,
    compromised_since: Annotated[int | None, typer.Option(
        "--compromised-since", metavar="INDEX", help="With --key-id: tokens logged from this "
                                                     "log index on are void.")] = None,
    key_file: Annotated[Path | None, typer.Option("--key", help="Sign with this party key "
                                                  "(default: the registrar).")] = None,
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")] = "revoked",
    home: Home = None,
) -> None:
    """Revoke a token, or a key (optionally as compromised since a log index)."""
    if (ref is None) == (key_id is None):
        raise InputError("give a token digest or --key-id")
    if ref is not None and compromised_since is not None:
        raise InputError("--compromised-since applies to keys (--key-id)")
    ledger = _workspace(home).open_ledger()
    signer = PartyKey.load(key_file).key if key_file else None
    if ref is not None:
        digest = ledger.resolve_token(ref)
        index = ledger.revoke_token(digest, signer=signer, reason=reason)
        what = f"token {digest}"
    else:
        assert key_id is not None
        index = ledger.revoke_key(key_id, signer=signer, reason=reason,
                                  compromised_since=compromised_since)
        what = f"key {key_id}"
    ledger.publish_checkpoint()
    say(console(), f"revoked {what} at log index {index}")


@handle_errors
def supersede(
    old: Annotated[str, typer.Argument(metavar="OLD_DIGEST")],
    new: Annotated[str, typer.Argument(metavar="NEW_DIGEST")],
    key_file: Annotated[Path, typer.Option("--key", help="The issuer's key file.")],
    reason: Annotated[str, typer.Option(help="Why (recorded in the log).")] = "corrected",
    home: Home = None,
) -> None:
    """Record that a later token of the same party corrects an earlier one.

    Both must be active and issued by the party of --key; to correct a shipment in one
    step, issue the new token with 'tmec token issue --supersedes OLD'.
    """
    ledger = _workspace(home).open_ledger()
    old_digest, new_digest = ledger.resolve_token(old), ledger.resolve_token(new)
    index = ledger.supersede_token(old_digest, new_digest, signer=PartyKey.load(key_file).key,
                                   reason=reason)
    ledger.publish_checkpoint()
    say(console(), f"{new_digest} supersedes {old_digest} at log index {index}")


# ----------------------------------------------------------------------------- verify


def render_verification(out: Console, result: Verification) -> None:
    """Checks table and the decision; every detail from the bundle shown as text."""
    style = {Decision.CLEAR: "bold green", Decision.REVIEW: "bold yellow",
             Decision.REJECT: "bold red"}
    table = Table(title="Checks", title_justify="left")
    for column in ("check", "outcome", "detail"):
        table.add_column(column)
    colours = {Outcome.PASS: "green", Outcome.FAIL: "red", Outcome.WARN: "yellow",
               Outcome.SKIP: "dim"}
    for check in result.checks:
        table.add_row(text(check.name), text(check.outcome.value, colours[check.outcome]),
                      text(check.detail))
    out.print(table)
    if result.shipment_id:
        say(out, f"shipment {result.shipment_id}, token {result.token_digest}")
    say(out, f"DECISION: {result.decision.value.upper()}", style[result.decision])


@handle_errors
def verify_command(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE")],
    trust: Annotated[Path | None, typer.Option(help="Trust file (default: the workspace's "
                                               "trust.json).")] = None,
    at: Annotated[str | None, typer.Option(metavar="TIME", help="Verify as of this time "
                                           "(ISO 8601, UTC); default now.")] = None,
    as_json: Json = False,
    home: Home = None,
) -> None:
    """Verify a bundle offline: exit 0 clear, 5 review, 1 reject."""
    trust_file = _workspace(home).trust(trust)
    now = (int(utc_now().timestamp()) if at is None
           else verification_time(at, "--at"))
    data = read_small_file(bundle, max_bundle_bytes(), "the bundle file", "max_bundle_bytes")
    result = verify(data, trust_file, now=now)
    if as_json:
        _print_json(result.to_dict())
    else:
        render_verification(console(), result)
    raise typer.Exit(DECISION_EXIT[result.decision])


@handle_errors
def demo(
    out: Annotated[Path, typer.Option(help="Directory to create the demo in (new or "
                                      "empty).")],
    examples: Annotated[Path | None, typer.Option(help="Directory of the example BOMs "
                                                  "(default: the repository's).")] = None,
    url: Annotated[str, typer.Option(help="Where the demo will be served (the VC-API "
                                     "endpoints in vc-api.json).")] = "http://127.0.0.1:8000",
) -> None:
    """Build a demo ledger from the example BOMs, with bundles and a trust file."""
    from cli.demo import EXAMPLES, run_demo

    if not url.startswith(("http://", "https://")) or len(url) > 200:
        raise InputError(f"--url must be an http(s) URL, got {url[:80]!r}")
    results = run_demo(out, examples or EXAMPLES, url=url)
    table = Table(title=text(f"Demo ledger in {out / 'ledger'}"), title_justify="left")
    for column in ("bundle", "token", "log index", "bytes", "verify"):
        table.add_column(column)
    for r in results:
        table.add_row(text(r.bundle), r.digest[:16] + "...", str(r.index), str(r.size),
                      r.decision.value)
    report = console()
    report.print(table)
    say(report, f"trust file: {out / 'trust.json'}")
    say(report, f"VC-API issuer and endpoints: {out / 'vc-api.json'}")
    say(report, f"try: tmec verify {results[0].bundle} --trust {out / 'trust.json'}")
    if any(r.decision is not Decision.CLEAR for r in results):
        raise typer.Exit(REJECT)


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
