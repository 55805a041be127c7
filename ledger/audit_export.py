"""A party's records as a verifiable export, and the offline check an auditor runs on it.

The export (``tmec-audit-export/1``) is JSON Lines, one object per line, streamed in
bounded memory, so a compliance team can hand a verification years later everything it
needs and nothing it must trust us for:

1. ``header`` — the party, the log's origin, the checkpoint the export is proven under
   (the latest, with its cosignatures) and, for an export of a period, the ``period``
   (first and last day, UTC, either open);
2. ``checkpoint`` — every checkpoint the log recorded up to that size (one text per
   size), then ``consistency`` — a consistency proof between each two consecutive ones
   (RFC 9162 s.2.1.4): the log never rewrote what it had shown;
3. ``entry`` — every log entry about the party: its keys' statements, its tokens'
   statements and their revocations, supersessions and status statements, each with an
   inclusion proof under the header's checkpoint (RFC 9162 s.2.1.3);
   for a period, only the tokens logged in it (their token statement's ``time``), each
   with its whole record up to the checkpoint (a revocation after the period is part of
   what the auditor must see), and all the party's key statements (they sign the rest);
4. ``token`` — each of its tokens (the W3C credential, eddsa-jcs-2022 signed);
5. ``end`` — the counts, so a truncated export is detected.

`verify_export` checks all of it offline under a trust file: the checkpoints' signatures
and cosignatures (no freshness: an audit looks at the past), the consistency chain, every
inclusion proof, every statement's signature (by the party's logged key, or the registrar
for the log's own statements), every token's digest, proof and logged statement, that each
token of a period export was logged in the period the header states, and the counts; the
report names the first line that fails and why. (That the export holds *every* token of
the period is what the log's own `tmec log audit` and the party's records establish: an
export proves what it holds, not what it leaves out.) USMCA Art. 5.8 asks records to
be kept five years (CUSMA: six in Canada); the ledger deletes nothing, so an export of any
period can be made at any time.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ledger.canonical import canonicalize, parse_json
from ledger.checkpoint import Checkpoint
from ledger.errors import InputError, LedgerError, NotFoundError
from ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.multikey import decode_public_key
from ledger.policy import verify_checkpoint
from ledger.service import Ledger
from ledger.statements import (
    StatementKind,
    parse_statement,
    registrar_kid,
    verify_statement_signature,
)
from ledger.token import token_digest, token_public_key, verify_token
from ledger.verify import TrustFile

__all__ = ["EXPORT_FORMAT", "ExportPeriod", "ExportReport", "export_lines", "verify_export"]

EXPORT_FORMAT = "tmec-audit-export/1"
_PAGE = 500


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass(frozen=True, slots=True)
class ExportPeriod:
    """The days an export covers: tokens logged from `start` to `end`, both included (UTC).

    Either bound may be open (None). A token belongs to the period by the ``time`` of its
    token statement, the moment it was logged, which the export itself carries and
    signs, so `verify_export` can check it.
    """

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InputError(f"the period ends ({self.end.isoformat()}) before it starts "
                             f"({self.start.isoformat()})")

    @property
    def bounded(self) -> bool:
        """Whether the period leaves anything out."""
        return self.start is not None or self.end is not None

    def contains(self, time: str) -> bool:
        """Whether a statement ``time`` (``YYYY-MM-DDTHH:MM:SSZ``) falls in the period."""
        day = time[:10]
        return ((self.start is None or day >= self.start.isoformat())
                and (self.end is None or day <= self.end.isoformat()))

    def to_dict(self) -> dict[str, str | None]:
        """The header's ``period``: ``from`` and ``to`` as ISO dates (or null)."""
        return {"from": None if self.start is None else self.start.isoformat(),
                "to": None if self.end is None else self.end.isoformat()}

    @classmethod
    def from_dict(cls, value: object) -> ExportPeriod:
        """The period of a header (`InputError` when it is not one)."""
        if not isinstance(value, dict) or set(value) != {"from", "to"}:
            raise InputError("the period is {\"from\": date or null, \"to\": date or null}")
        bounds: list[date | None] = []
        for name in ("from", "to"):
            text = value[name]
            if text is None:
                bounds.append(None)
                continue
            try:
                if not isinstance(text, str) or len(text) != 10:
                    raise ValueError(text)
                bounds.append(date.fromisoformat(text))
            except ValueError:
                raise InputError(f"the period's {name!r} is not a date (YYYY-MM-DD)") from None
        return cls(bounds[0], bounds[1])


def _token_time(entries: list[Any]) -> str:
    """The ``time`` of a token's own token statement among its entries ("" if none)."""
    for record in entries:
        if record.kind == "token":
            statement = parse_json(record.body)
            if isinstance(statement, dict) and isinstance(statement.get("time"), str):
                return str(statement["time"])
    return ""


def export_lines(ledger: Ledger, party_id: str,
                 period: ExportPeriod | None = None) -> Iterator[str]:
    """The export of `party_id`'s records, line by line (see the module docstring).

    With a bounded `period`, only the tokens logged in it (and their records), with the
    party's key statements; the header states the period.

    Raises:
        NotFoundError: the party has no key in the log, or the log has no checkpoint.
    """
    within = period if period is not None and period.bounded else None
    store = ledger.store
    keys = store.party_keys(party_id)
    if not keys:
        raise NotFoundError(f"party {party_id!r} has no key in the log")
    latest = store.latest_checkpoint()
    if latest is None:
        raise NotFoundError("the log has no checkpoint yet")
    size, text = latest
    header: dict[str, Any] = {"type": "header", "format": EXPORT_FORMAT, "party": party_id,
                              "origin": ledger.origin, "size": size, "checkpoint": text}
    if within is not None:
        header["period"] = within.to_dict()
    yield _line(header)
    by_size: dict[int, str] = {}
    for checkpoint_size, checkpoint_text in store.iter_checkpoints():
        if checkpoint_size <= size:
            by_size[checkpoint_size] = checkpoint_text  # the latest text of each size
    sizes = sorted(by_size)
    for checkpoint_size in sizes:
        yield _line({"type": "checkpoint", "size": checkpoint_size,
                     "text": by_size[checkpoint_size]})
    tree = ledger.tree(size)
    for old, new in itertools.pairwise(sizes):
        yield _line({"type": "consistency", "from": old, "to": new,
                     "proof": [_b64(h) for h in tree.consistency_proof(old, new)]})
    indices: set[int] = set()
    for record in keys:
        indices.update(e.index for e in store.find(key_id=record.kid))
    digests: list[str] = []
    after = -1
    while True:
        page = store.party_tokens(party_id, after, _PAGE)
        if not page:
            break
        for row in page:
            about = store.find(token_digest=row.digest)
            if within is not None and not within.contains(_token_time(about)):
                continue  # logged outside the period: neither its entries nor the token
            digests.append(row.digest)
            indices.update(e.index for e in about)
        after = page[-1].index
    wanted = sorted(i for i in indices if i < size)
    for start in range(0, len(wanted), _PAGE):
        chunk = wanted[start:start + _PAGE]
        with store.snapshot() as view:
            entries = view.entries_at(chunk)
        for index in chunk:
            yield _line({"type": "entry", "index": index,
                         "statement": parse_json(entries[index].body),
                         "proof": [_b64(h) for h in tree.inclusion_proof(index)]})
    logged_tokens = 0
    for digest in digests:
        logged = store.token_row(digest)
        if logged is None or logged.index >= size:
            continue  # logged after the checkpoint: in the next export
        yield _line({"type": "token", "digest": digest, "token": ledger.token(digest)})
        logged_tokens += 1
    yield _line({"type": "end", "checkpoints": len(sizes), "entries": len(wanted),
                 "tokens": logged_tokens})


@dataclass
class ExportReport:
    """What `verify_export` found: ok, or the first failing line and why."""

    party: str | None = None
    size: int | None = None
    period: ExportPeriod | None = None
    checkpoints: int = 0
    entries: int = 0
    tokens: int = 0
    problem: str | None = None
    line: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every line checked and the counts match."""
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``tmec audit verify --json``)."""
        return {"ok": self.ok, "party": self.party, "size": self.size,
                "period": None if self.period is None else self.period.to_dict(),
                "checkpoints": self.checkpoints, "entries": self.entries,
                "tokens": self.tokens, "problem": self.problem, "line": self.line}


class _Fail(Exception):  # noqa: N818 - the first problem found, with its line
    pass


def _hashes(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
        raise _Fail(f"{what} must be a list of base64 hashes")
    try:
        return [base64.b64decode(h, validate=True) for h in value]
    except ValueError:
        raise _Fail(f"{what} holds a hash that is not base64") from None


def _int(obj: dict[str, Any], name: str) -> int:
    value = obj.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _Fail(f"{name} must be a non-negative integer")
    return value


class _Checker:
    def __init__(self, trust: TrustFile) -> None:
        self.trust = trust
        self.report = ExportReport()
        self.roots: dict[int, bytes] = {}
        self.root: bytes | None = None
        self.keys: dict[str, bytes] = {}  # kid -> public key, from the party's key entries
        self.token_entries: dict[str, str] = {}  # token digest -> its statement's time
        self.registrar: str | None = None
        self.stage = "header"
        self.ended = False

    def checkpoint(self, text: Any) -> Checkpoint:
        if not isinstance(text, str):
            raise _Fail("a checkpoint must be its signed note text")
        try:
            verified = verify_checkpoint(self.trust.policy, text, now=None)
        except LedgerError as exc:
            raise _Fail(f"the checkpoint does not verify under the trust file: {exc}") from None
        return verified.checkpoint

    def header(self, obj: dict[str, Any]) -> None:
        if obj.get("format") != EXPORT_FORMAT:
            raise _Fail(f"not a {EXPORT_FORMAT} export")
        party = obj.get("party")
        if not isinstance(party, str):
            raise _Fail("the header names no party")
        checkpoint = self.checkpoint(obj.get("checkpoint"))
        if checkpoint.size != _int(obj, "size"):
            raise _Fail("the header's size is not its checkpoint's")
        self.report.party, self.report.size = party, checkpoint.size
        if "period" in obj:
            try:
                self.report.period = ExportPeriod.from_dict(obj["period"])
            except InputError as exc:
                raise _Fail(f"the header's period: {exc}") from None
        self.root = checkpoint.root_hash
        self.roots[checkpoint.size] = checkpoint.root_hash
        origin = obj.get("origin")
        self.registrar = registrar_kid(origin) if isinstance(origin, str) else None

    def line(self, obj: dict[str, Any]) -> None:
        kind = obj.get("type")
        if self.ended:
            raise _Fail("a line after the end line")
        if self.stage == "header":
            if kind != "header":
                raise _Fail("the first line must be the header")
            self.header(obj)
            self.stage = "body"
            return
        handler = {"checkpoint": self.on_checkpoint, "consistency": self.on_consistency,
                   "entry": self.on_entry, "token": self.on_token, "end": self.on_end
                   }.get(str(kind))
        if handler is None:
            raise _Fail(f"unknown line type {str(kind)[:40]!r}")
        handler(obj)

    def on_checkpoint(self, obj: dict[str, Any]) -> None:
        checkpoint = self.checkpoint(obj.get("text"))
        if checkpoint.size != _int(obj, "size"):
            raise _Fail("the line's size is not its checkpoint's")
        assert self.report.size is not None
        if checkpoint.size > self.report.size:
            raise _Fail(f"checkpoint of size {checkpoint.size} is beyond the export's "
                        f"{self.report.size}")
        known = self.roots.get(checkpoint.size)
        if known is not None and known != checkpoint.root_hash:
            raise _Fail(f"two checkpoints of size {checkpoint.size} with different roots: "
                        "the log forked")
        self.roots[checkpoint.size] = checkpoint.root_hash
        self.report.checkpoints += 1

    def on_consistency(self, obj: dict[str, Any]) -> None:
        old, new = _int(obj, "from"), _int(obj, "to")
        if old not in self.roots or new not in self.roots:
            raise _Fail(f"consistency {old} -> {new} names a checkpoint not in the export")
        try:
            verify_consistency(old, new, _hashes(obj.get("proof"), "proof"), self.roots[old],
                               self.roots[new])
        except LedgerError as exc:
            raise _Fail(f"the log is not consistent from size {old} to {new}: {exc}") from None

    def on_entry(self, obj: dict[str, Any]) -> None:
        index = _int(obj, "index")
        statement = obj.get("statement")
        if not isinstance(statement, dict):
            raise _Fail("an entry's statement must be an object")
        assert self.report.size is not None
        assert self.root is not None
        try:
            leaf = leaf_hash(canonicalize(statement))
            verify_inclusion(leaf, index, self.report.size, _hashes(obj.get("proof"), "proof"),
                             self.root)
            parsed = parse_statement(statement)
        except LedgerError as exc:
            raise _Fail(f"entry {index} is not in the log as exported: {exc}") from None
        if parsed.kind is StatementKind.KEY and "publicKeyMultibase" in statement:
            self.keys[str(statement["kid"])] = decode_public_key(
                str(statement["publicKeyMultibase"]))
        if parsed.signer == self.registrar:
            signer_key: bytes | None = self.trust.policy.logs[0].verifier.public_key
        else:
            signer_key = self.keys.get(parsed.signer)
        if signer_key is None:
            raise _Fail(f"entry {index} is signed by {parsed.signer}, a key the export does "
                        "not show being added")
        try:
            verify_statement_signature(statement, signer_key)
        except LedgerError as exc:
            raise _Fail(f"entry {index}: {exc}") from None
        if parsed.kind is StatementKind.TOKEN and parsed.token_digest:
            self.token_entries[parsed.token_digest] = str(statement.get("time", ""))
        self.report.entries += 1

    def on_token(self, obj: dict[str, Any]) -> None:
        digest = obj.get("digest")
        token = obj.get("token")
        if not isinstance(digest, str) or not isinstance(token, dict):
            raise _Fail("a token line has a digest and a token")
        try:
            if token_digest(token) != digest:
                raise _Fail(f"token {digest[:16]}... does not hash to its digest")
            verify_token(token, token_public_key(token))  # did:key or did:web
        except LedgerError as exc:
            raise _Fail(f"token {digest[:16]}...: {exc}") from None
        if digest not in self.token_entries:
            raise _Fail(f"token {digest[:16]}... has no token statement in the export")
        logged = self.token_entries[digest]
        period = self.report.period
        if period is not None and not period.contains(logged):
            raise _Fail(f"token {digest[:16]}... was logged at {logged[:20]}, outside the "
                        "export's period")
        self.report.tokens += 1

    def on_end(self, obj: dict[str, Any]) -> None:
        counted = (self.report.checkpoints, self.report.entries, self.report.tokens)
        stated = (_int(obj, "checkpoints"), _int(obj, "entries"), _int(obj, "tokens"))
        if counted != stated:
            raise _Fail(f"the export says {stated[0]} checkpoints, {stated[1]} entries and "
                        f"{stated[2]} tokens but holds {counted[0]}, {counted[1]} and "
                        f"{counted[2]}: lines are missing or were added")
        self.ended = True


def verify_export(lines: Iterable[bytes | str], trust: TrustFile) -> ExportReport:
    """Check an export line by line under `trust`; the report names the first failure."""
    checker = _Checker(trust)
    number = 0
    try:
        for number, raw in enumerate(lines, start=1):  # noqa: B007 - reported below
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if not text.strip():
                continue
            try:
                obj = parse_json(text)
            except LedgerError as exc:
                raise _Fail(f"not JSON: {exc}") from None
            if not isinstance(obj, dict):
                raise _Fail("each line is a JSON object")
            checker.line(obj)
        if checker.stage == "header":
            raise _Fail("the export is empty")
        if not checker.ended:
            number += 1
            raise _Fail("the export ends without its end line (truncated)")
    except _Fail as exc:
        checker.report.problem = str(exc)
        checker.report.line = number
    except UnicodeDecodeError:
        checker.report.problem = "not UTF-8 text"
        checker.report.line = number
    return checker.report
