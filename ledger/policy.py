"""Trust policy: which log, which witnesses, and which quorum of cosignatures a verifier needs.

The text form is c2sp.org/tlog-policy: ``log <vkey> [<url>]``, ``witness <name> <vkey>
[<url>]``, ``group <name> <k|any|all> <member>...`` and exactly one ``quorum <name|none>``,
with ``#`` comments, blank lines, and space or tab separators. Groups and the quorum may
only name witnesses and groups defined on earlier lines; a name is a member of a group at
most once; duplicate keys are refused. In the product (ledger-anchors s.5.2)::

    log     <ledger-2026 vkey>
    witness cbp  <vkey>
    witness cbsa <vkey>
    witness anam <vkey>
    group   customs 2 cbp cbsa anam
    quorum  customs

Log vkeys are Ed25519 note keys (type 0x01) and the log's key name is its origin;
witness vkeys are ``cosignature/v1`` keys (type 0x04), as tlog-cosignature specifies.

Freshness (ledger-anchors s.5.2, "freshness policy") is not part of tlog-policy. We carry
it as ``max_age_seconds`` in the JSON form and, in the text form, as the directive comment
``# tmec: max-age-seconds <n>``: other tlog-policy tools read it as a comment and still
accept the file, and the setting survives a round trip. It requires a quorum other than
``none`` (freshness is what the witnesses' timestamps attest).

`verify_checkpoint` fails closed: a policy without a log key, a bad or missing log
signature, a failed cosignature, or an unmet quorum raise (`PolicyError` naming what is
missing; `SignatureError` / `UnknownKeyError` from the note layer). **Staleness is reported
distinctly**: when the quorum is met but not by cosignatures made within
``max_age_seconds`` of ``now``, `verify_checkpoint` raises `StaleCheckpointError`, a
`PolicyError` subclass carrying the fully authenticated `VerifiedCheckpoint` in its
``verified`` attribute. A caller that treats every `PolicyError` as "reject" is therefore
safe by default, and the bundle verifier can catch the subclass and answer "review"
(ledger design s.8) with the authentic checkpoint in hand. We chose an exception over a
flag on the result because a flag can be forgotten; an exception cannot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar

from ledger.canonical import parse_json
from ledger.checkpoint import Checkpoint, OpenedCheckpoint, open_checkpoint
from ledger.errors import EncodingError, PolicyError
from ledger.note import SIG_COSIGNATURE_V1, SIG_ED25519, Signature, Verifier

__all__ = [
    "MAX_CLOCK_SKEW_SECONDS",
    "QUORUM_NONE",
    "Group",
    "LogKey",
    "Policy",
    "StaleCheckpointError",
    "VerifiedCheckpoint",
    "WitnessKey",
    "verify_checkpoint",
]

QUORUM_NONE = "none"
MAX_CLOCK_SKEW_SECONDS = 300
"""Cosignatures stamped more than this far after ``now`` do not count as fresh.

tlog-cosignature lets verifiers reject future timestamps; a witness whose clock runs ahead
would otherwise make a checkpoint look fresh for as long as it runs ahead.
"""

_SEPARATORS = re.compile(r"[ \t]+")
_DIRECTIVE = re.compile(r"#[ \t]*tmec:[ \t]*(.*)")
_MAX_AGE = re.compile(r"max-age-seconds[ \t]+([1-9][0-9]*)[ \t]*")
_THRESHOLD = re.compile(r"[1-9][0-9]*")


class StaleCheckpointError(PolicyError):
    """The checkpoint is authentic and met the quorum, but not with fresh cosignatures.

    ``verified`` is the authenticated checkpoint, so a verifier can report "review"
    rather than "reject" (ledger design s.8). Defined here because ``ledger/errors.py`` is
    the shared error tree; it belongs there under `PolicyError`.
    """

    code: ClassVar[str] = "ledger.checkpoint_stale"
    title: ClassVar[str] = "Checkpoint not fresh"

    def __init__(self, message: str, *, verified: VerifiedCheckpoint) -> None:
        super().__init__(message)
        self.verified = verified


def _is_int(value: object) -> bool:
    """An int that is not a bool (JSON and callers may pass True for 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_name(name: str, what: str) -> None:
    if not name or any(char in " \t\n" or ord(char) < 0x20 or char == "\x7f"
                       for char in name):
        raise PolicyError(f"{what} name {name!r} is empty or contains whitespace")
    if name == QUORUM_NONE:
        raise PolicyError(f"{what} cannot be named {QUORUM_NONE!r}, which is reserved")


def _check_url(url: str | None, what: str) -> None:
    if url is not None and (not url or _SEPARATORS.search(url) or "\n" in url):
        raise PolicyError(f"{what}: URL {url!r} is empty or contains whitespace")


@dataclass(frozen=True)
class LogKey:
    """A log the policy accepts: its Ed25519 (0x01) note key, and optionally a URL."""

    verifier: Verifier
    url: str | None = None

    def __post_init__(self) -> None:
        if self.verifier.sig_type != SIG_ED25519:
            raise PolicyError(f"log {self.verifier.name}: a log vkey has type 0x01, not "
                              f"0x{self.verifier.sig_type:02x}")
        _check_url(self.url, f"log {self.verifier.name}")


@dataclass(frozen=True)
class WitnessKey:
    """A witness: its policy-local name, cosignature/v1 (0x04) key, and optional URL."""

    name: str
    verifier: Verifier
    url: str | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "witness")
        if self.verifier.sig_type != SIG_COSIGNATURE_V1:
            raise PolicyError(f"witness {self.name}: a witness vkey has type 0x04 "
                              f"(cosignature/v1), not 0x{self.verifier.sig_type:02x}")
        _check_url(self.url, f"witness {self.name}")


@dataclass(frozen=True)
class Group:
    """``group <name> <k|any|all> <members>``: met when at least k members are met."""

    name: str
    threshold: str
    members: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_name(self.name, "group")
        object.__setattr__(self, "members", tuple(self.members))
        if not self.members:
            raise PolicyError(f"group {self.name} has no members")
        if self.threshold not in ("any", "all") and not _THRESHOLD.fullmatch(self.threshold):
            raise PolicyError(f"group {self.name}: threshold {self.threshold!r} is not 'any', "
                              "'all' or a decimal number")
        if not 1 <= self.required <= len(self.members):
            raise PolicyError(f"group {self.name}: threshold {self.threshold} is outside "
                              f"1..{len(self.members)}")
        seen: set[str] = set()
        for member in self.members:
            if member == QUORUM_NONE:
                raise PolicyError(f"group {self.name}: {QUORUM_NONE!r} cannot be a member")
            if member in seen:
                raise PolicyError(f"group {self.name} lists {member} twice")
            seen.add(member)

    @property
    def required(self) -> int:
        """How many members must be met (k)."""
        if self.threshold == "any":
            return 1
        if self.threshold == "all":
            return len(self.members)
        return int(self.threshold)


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint signed by a policy log and cosigned by a quorum of its witnesses.

    `cosignatures` maps the *policy* witness names that verified to their timestamps;
    `quorum_time` is the latest time T such that the cosignatures made at or after T still
    meet the quorum (None for ``quorum none``): the checkpoint's age is ``now - T``.
    `freshness_checked` says whether ``max_age_seconds`` was enforced (it needs ``now``).
    """

    checkpoint: Checkpoint
    log: Verifier
    cosignatures: Mapping[str, int]
    quorum_time: int | None
    freshness_checked: bool
    unknown_signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Policy:
    """A parsed, validated tlog-policy plus our freshness setting."""

    logs: tuple[LogKey, ...]
    witnesses: tuple[WitnessKey, ...]
    groups: tuple[Group, ...]
    quorum: str
    max_age_seconds: int | None = None

    def __post_init__(self) -> None:
        for name in ("logs", "witnesses", "groups"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        _unique_keys([log.verifier for log in self.logs], "log")
        _unique_keys([witness.verifier for witness in self.witnesses], "witness")
        defined: set[str] = set()
        witness_names = set()
        for witness in self.witnesses:
            if witness.name in defined:
                raise PolicyError(f"witness {witness.name} is defined twice")
            defined.add(witness.name)
            witness_names.add(witness.name)
        for group in self.groups:
            if group.name in defined:
                raise PolicyError(f"name {group.name} is defined twice")
            for member in group.members:
                if member not in defined:
                    raise PolicyError(f"group {group.name}: member {member} is not a witness "
                                      "or an earlier group")
            defined.add(group.name)
        if self.quorum != QUORUM_NONE and self.quorum not in defined:
            raise PolicyError(f"quorum {self.quorum} is not a defined witness or group")
        if self.max_age_seconds is not None:
            if not _is_int(self.max_age_seconds) or self.max_age_seconds <= 0:
                raise PolicyError(f"max_age_seconds must be a positive integer, got "
                                  f"{self.max_age_seconds!r}")
            if self.quorum == QUORUM_NONE:
                raise PolicyError("max_age_seconds needs a witness quorum: with 'quorum "
                                  "none' nothing attests freshness")

    # -- evaluation -------------------------------------------------------------------

    def quorum_met(self, cosigned: Iterable[str]) -> bool:
        """Whether cosignatures from the witnesses named `cosigned` meet the quorum."""
        if self.quorum == QUORUM_NONE:
            return True
        return self._met(self.quorum, frozenset(cosigned))

    def _met(self, name: str, cosigned: frozenset[str]) -> bool:
        group = self._group(name)
        if group is None:
            return name in cosigned
        count = sum(1 for member in group.members if self._met(member, cosigned))
        return count >= group.required

    def _group(self, name: str) -> Group | None:
        for group in self.groups:
            if group.name == name:
                return group
        return None

    def explain(self, cosigned: Iterable[str]) -> str:
        """Say why the quorum is not met by `cosigned`: which groups and witnesses lack."""
        have = frozenset(cosigned)
        problems: list[str] = []
        missing: list[str] = []
        self._explain(self.quorum, have, problems, missing)
        present = ", ".join(sorted(have)) or "none"
        lacking = ", ".join(dict.fromkeys(missing)) or "none"
        return (f"quorum {self.quorum!r} not met: {'; '.join(problems)}; missing cosignatures "
                f"from: {lacking}; valid cosignatures from: {present}")

    def _explain(self, name: str, have: frozenset[str], problems: list[str],
                 missing: list[str]) -> None:
        group = self._group(name)
        if group is None:
            if name not in have:
                missing.append(name)
            return
        met = [member for member in group.members if self._met(member, have)]
        if len(met) >= group.required:
            return
        problems.append(f"group {name} needs {group.required} of "
                        f"[{', '.join(group.members)}] and has {len(met)}")
        for member in group.members:
            if member not in met:
                self._explain(member, have, problems, missing)

    def quorum_time(self, cosignatures: Mapping[str, int]) -> int | None:
        """The latest T such that cosignatures made at or after T meet the quorum."""
        if self.quorum == QUORUM_NONE:
            return None
        for moment in sorted(set(cosignatures.values()), reverse=True):
            if self.quorum_met(name for name, stamp in cosignatures.items()
                               if stamp >= moment):
                return moment
        return None

    # -- text form (c2sp.org/tlog-policy) ----------------------------------------------

    @classmethod
    def parse(cls, text: str | bytes) -> Policy:
        """Parse the tlog-policy text form (with our max-age directive).

        Raises:
            PolicyError: naming the line that is malformed or refers to an unknown name.
        """
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise PolicyError(f"the policy is not UTF-8 text ({exc.reason})") from exc
        logs: list[LogKey] = []
        witnesses: list[WitnessKey] = []
        groups: list[Group] = []
        quorum: str | None = None
        max_age: int | None = None
        defined: set[str] = set()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, raw in enumerate(lines, start=1):
            try:
                for char in raw:
                    if (ord(char) < 0x20 and char != "\t") or char == "\x7f":
                        raise PolicyError(f"character {char!r} is not allowed")
                line = raw.strip(" \t")
                directive = _DIRECTIVE.fullmatch(line)
                if directive:
                    match = _MAX_AGE.fullmatch(directive.group(1))
                    if match is None:
                        raise PolicyError(f"unknown directive {line!r}")
                    if max_age is not None:
                        raise PolicyError("max-age-seconds is given twice")
                    max_age = int(match.group(1))
                    continue
                if not line or line.startswith("#"):
                    continue
                keyword, *args = _SEPARATORS.split(line)
                if keyword == "log":
                    if not 1 <= len(args) <= 2:
                        raise PolicyError("expected 'log <vkey> [<url>]'")
                    logs.append(LogKey(_vkey(args[0]), args[1] if len(args) > 1 else None))
                elif keyword == "witness":
                    if not 2 <= len(args) <= 3:
                        raise PolicyError("expected 'witness <name> <vkey> [<url>]'")
                    if args[0] in defined:
                        raise PolicyError(f"name {args[0]} is defined twice")
                    witnesses.append(WitnessKey(args[0], _vkey(args[1]),
                                                args[2] if len(args) > 2 else None))
                    defined.add(args[0])
                elif keyword == "group":
                    if len(args) < 3:
                        raise PolicyError("expected 'group <name> <k|any|all> <member>...'")
                    name, threshold, *members = args
                    if name in defined:
                        raise PolicyError(f"name {name} is defined twice")
                    for member in members:
                        if member not in defined:
                            raise PolicyError(f"group {name}: {member} is not defined on an "
                                              "earlier line")
                    groups.append(Group(name, threshold, tuple(members)))
                    defined.add(name)
                elif keyword == "quorum":
                    if len(args) != 1:
                        raise PolicyError("expected 'quorum <name|none>'")
                    if quorum is not None:
                        raise PolicyError("a policy has exactly one quorum line")
                    if args[0] != QUORUM_NONE and args[0] not in defined:
                        raise PolicyError(f"quorum {args[0]} is not defined on an earlier line")
                    quorum = args[0]
                else:
                    raise PolicyError(f"unknown keyword {keyword!r}")
            except PolicyError as exc:
                raise PolicyError(f"policy line {number}: {exc.message}") from exc
        if quorum is None:
            raise PolicyError("the policy has no quorum line")
        return cls(tuple(logs), tuple(witnesses), tuple(groups), quorum, max_age)

    def to_text(self) -> str:
        """The tlog-policy text form (logs, witnesses, groups, quorum, max-age directive)."""
        lines = [_join("log", log.verifier.vkey, log.url) for log in self.logs]
        lines += [_join("witness", witness.name, witness.verifier.vkey, witness.url)
                  for witness in self.witnesses]
        lines += [_join("group", group.name, group.threshold, *group.members)
                  for group in self.groups]
        lines.append(f"quorum {self.quorum}")
        if self.max_age_seconds is not None:
            lines.append(f"# tmec: max-age-seconds {self.max_age_seconds}")
        return "".join(line + "\n" for line in lines)

    # -- JSON form (trust.json) --------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The JSON form written as ``trust.json``.

        ``log`` is one vkey string when there is one log without URL, else a list; a key
        with a URL is ``{"vkey": ..., "url": ...}``. ``groups`` maps names to
        ``{"threshold": k | "any" | "all", "members": [...]}``.
        """
        logs = [_key_json(log.verifier, log.url) for log in self.logs]
        return {
            "log": logs[0] if len(logs) == 1 and isinstance(logs[0], str) else logs,
            "witnesses": {witness.name: _key_json(witness.verifier, witness.url)
                          for witness in self.witnesses},
            "groups": {group.name: {"threshold": (group.required if _THRESHOLD.fullmatch(
                group.threshold) else group.threshold), "members": list(group.members)}
                for group in self.groups},
            "quorum": self.quorum,
            "max_age_seconds": self.max_age_seconds,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str | bytes) -> Policy:
        """Parse the JSON form (a parsed object, or its text).

        Groups may appear in any order in the JSON object; they are ordered so that each
        refers only to earlier ones, and a cycle or an undefined member is an error.
        """
        if isinstance(data, str | bytes):
            try:
                data = parse_json(data)
            except EncodingError as exc:
                raise PolicyError(f"trust policy JSON: {exc.message}") from exc
        if not isinstance(data, Mapping):
            raise PolicyError("trust policy JSON must be an object")
        allowed = {"log", "witnesses", "groups", "quorum", "max_age_seconds"}
        unknown = set(data) - allowed
        if unknown:
            raise PolicyError(f"trust policy JSON has unknown keys: {sorted(unknown)}")
        for required in ("log", "witnesses", "quorum"):
            if required not in data:
                raise PolicyError(f"trust policy JSON lacks {required!r}")
        raw_logs = data["log"]
        entries = raw_logs if isinstance(raw_logs, list) else [raw_logs]
        logs = tuple(LogKey(*_key_from_json(entry, "log")) for entry in entries)
        raw_witnesses = data["witnesses"]
        if not isinstance(raw_witnesses, Mapping):
            raise PolicyError("'witnesses' must map names to vkeys")
        witnesses = tuple(WitnessKey(name, *_key_from_json(entry, f"witness {name}"))
                          for name, entry in raw_witnesses.items())
        groups = _groups_from_json(data.get("groups", {}), set(raw_witnesses))
        quorum = data["quorum"]
        if not isinstance(quorum, str):
            raise PolicyError("'quorum' must be a name or 'none'")
        return cls(logs, witnesses, groups, quorum, data.get("max_age_seconds"))


def _join(*parts: str | None) -> str:
    return " ".join(part for part in parts if part is not None)


def _vkey(text: str) -> Verifier:
    try:
        return Verifier.from_vkey(text)
    except EncodingError as exc:
        raise PolicyError(f"bad vkey: {exc.message}") from exc


def _unique_keys(verifiers: list[Verifier], what: str) -> None:
    seen: dict[bytes, str] = {}
    for verifier in verifiers:
        if verifier.public_key in seen:
            raise PolicyError(f"{what} keys {seen[verifier.public_key]} and {verifier.name} "
                              "wrap the same public key (duplicates are not allowed)")
        seen[verifier.public_key] = verifier.name


def _key_json(verifier: Verifier, url: str | None) -> str | dict[str, str]:
    return verifier.vkey if url is None else {"vkey": verifier.vkey, "url": url}


def _key_from_json(entry: Any, what: str) -> tuple[Verifier, str | None]:
    if isinstance(entry, str):
        return _vkey(entry), None
    if isinstance(entry, Mapping) and set(entry) <= {"vkey", "url"} and "vkey" in entry:
        vkey, url = entry["vkey"], entry.get("url")
        if isinstance(vkey, str) and (url is None or isinstance(url, str)):
            return _vkey(vkey), url
    raise PolicyError(f"{what}: expected a vkey string or {{\"vkey\", \"url\"}}")


def _groups_from_json(raw: Any, witnesses: set[str]) -> tuple[Group, ...]:
    if not isinstance(raw, Mapping):
        raise PolicyError("'groups' must map names to {threshold, members}")
    pending: dict[str, Group] = {}
    for name, spec in raw.items():
        if not isinstance(spec, Mapping) or set(spec) != {"threshold", "members"}:
            raise PolicyError(f"group {name}: expected {{\"threshold\", \"members\"}}")
        threshold, members = spec["threshold"], spec["members"]
        if _is_int(threshold):
            threshold = str(threshold)
        if not isinstance(threshold, str) or not isinstance(members, list) or not all(
                isinstance(member, str) for member in members):
            raise PolicyError(f"group {name}: threshold is k, 'any' or 'all'; members a list "
                              "of names")
        pending[name] = Group(name, threshold, tuple(members))
    ordered: list[Group] = []
    placed = set(witnesses)
    while pending:
        ready = [group for group in pending.values()
                 if all(member in placed for member in group.members)]
        if not ready:
            names = ", ".join(sorted(pending))
            raise PolicyError(f"groups {names} refer to undefined names or to each other in "
                              "a cycle")
        for group in ready:
            ordered.append(group)
            placed.add(group.name)
            del pending[group.name]
    return tuple(ordered)


#: How many distinct signed checkpoints `opened_checkpoint` remembers per process.
OPENED_CHECKPOINTS_REMEMBERED = 64


def opened_checkpoint(signed_note: str | bytes, logs: tuple[Verifier, ...],
                      witnesses: tuple[Verifier, ...]) -> OpenedCheckpoint:
    """`open_checkpoint`, remembered for the last few distinct notes.

    A verifier sees few distinct checkpoints: every bundle fetched between two checkpoints
    carries the same signed note, and a supplier's bundle usually carries its customer's.
    Opening one costs a signature check per log and witness key (four Ed25519 checks
    with three witnesses, most of a bundle's verification). The outcome is a pure
    function of the note's exact bytes and the keys asked for, so it is remembered under
    exactly those (a note that differs in one byte, or a different key set, is opened
    afresh); only successes are kept, failures are recomputed and raised each time.
    `OpenedCheckpoint` is immutable, so sharing one between callers and threads is safe.
    """
    note = signed_note.encode("utf-8") if isinstance(signed_note, str) else bytes(signed_note)
    return _opened_checkpoint(note, logs, witnesses)


@lru_cache(maxsize=OPENED_CHECKPOINTS_REMEMBERED)
def _opened_checkpoint(note: bytes, logs: tuple[Verifier, ...],
                       witnesses: tuple[Verifier, ...]) -> OpenedCheckpoint:
    return open_checkpoint(note, logs, witnesses)


def verify_checkpoint(policy: Policy, signed_note: str | bytes,
                      now: int | None = None) -> VerifiedCheckpoint:
    """Verify a cosigned checkpoint under `policy` (tlog-policy "What is a policy?").

    Steps: the policy names at least one log; a policy log signed the note and the origin
    is that log's key name; every cosignature by a policy witness verifies; the valid ones
    meet the quorum; if ``max_age_seconds`` is set and `now` (POSIX seconds) is given, the
    cosignatures made in ``[now - max_age, now + MAX_CLOCK_SKEW_SECONDS]`` meet it too.

    Raises:
        PolicyError: the policy names no log, or the quorum is not met (naming who is
            missing).
        StaleCheckpointError: authentic and quorate, but not fresh (see module docstring).
        SignatureError: a log or witness signature that does not verify.
        UnknownKeyError: no policy log signed, or the origin is not the log's.
        EncodingError: the note or checkpoint is malformed.
    """
    if not policy.logs:
        raise PolicyError("the trust policy names no log key, so no checkpoint can be "
                          "accepted")
    by_key = {witness.verifier: witness.name for witness in policy.witnesses}
    opened = opened_checkpoint(signed_note, tuple(log.verifier for log in policy.logs),
                               tuple(by_key))
    cosignatures: dict[str, int] = {}
    for item in opened.cosignatures:
        if item.timestamp is not None:
            cosignatures[by_key[item.verifier]] = item.timestamp
    if not policy.quorum_met(cosignatures):
        raise PolicyError(policy.explain(cosignatures))
    freshness_checked = policy.max_age_seconds is not None and now is not None
    verified = VerifiedCheckpoint(
        checkpoint=opened.checkpoint,
        log=opened.log_signature.verifier,
        cosignatures=MappingProxyType(cosignatures),
        quorum_time=policy.quorum_time(cosignatures),
        freshness_checked=freshness_checked,
        unknown_signatures=opened.unknown_signatures,
    )
    if policy.max_age_seconds is not None and now is not None:
        oldest = now - policy.max_age_seconds
        newest = now + MAX_CLOCK_SKEW_SECONDS
        fresh = [name for name, stamp in cosignatures.items() if oldest <= stamp <= newest]
        if not policy.quorum_met(fresh):
            stamp = verified.quorum_time
            if stamp is None:
                age = "of unknown age"
            elif stamp > now:
                age = (f"dated {stamp - now} s after the verification time (a witness clock "
                       "ahead, or a verification time before the checkpoint existed)")
            else:
                age = (f"{now - stamp} s old, more than the allowed "
                       f"{policy.max_age_seconds} s")
            raise StaleCheckpointError(
                f"checkpoint {opened.checkpoint.origin} at size {opened.checkpoint.size} is "
                f"authentic but not fresh: the quorum's cosignatures are {age} "
                f"({policy.explain(fresh)})", verified=verified)
    return verified
