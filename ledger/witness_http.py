"""Witnesses over HTTP: the C2SP tlog-witness ``add-checkpoint`` protocol, both ends.

`HttpWitness` is the log's client of a witness another party runs (CBP, CBSA, ANAM each
run theirs): it POSTs ``old <size>``, the consistency proof lines, an empty line and the
signed checkpoint to ``<url>/add-checkpoint`` and returns the cosignature line. The
statuses mean what c2sp.org/tlog-witness says: 409 (with the size the witness last
cosigned, ``text/x.tlog.size``) becomes `WitnessSizeConflictError`, which the ledger
answers once with a proof from that size; 403, 404, 400 and 422 are refusals (a signature,
an unknown log, a rollback, an inconsistent tree) and raised as such; a connection that
fails or times out is an `OSError`, which the ledger logs and leaves the cosignature out.

`handle_add_checkpoint` is the server side for any HTTP framework: the status, content
type and body to answer for one request body, given a `FileWitness` (whose check and
persist are atomic under its lock). ``tmec witness serve`` runs it on the standard
library's HTTP server. Standard library only (``http.client``): no framework in the core.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Sequence
from typing import Protocol

from ledger.checkpoint import Checkpoint
from ledger.errors import (
    ConflictError,
    EncodingError,
    InconsistentCheckpointError,
    InputError,
    LedgerError,
    SignatureError,
    UnknownKeyError,
    WitnessSizeConflictError,
)
from ledger.note import Note
from ledger.witness import AddCheckpointRequest

__all__ = ["SIZE_MEDIA", "HttpWitness", "LocalWitness", "handle_add_checkpoint"]

SIZE_MEDIA = "text/x.tlog.size"
MAX_REQUEST_BYTES = 64 * 1024
"""A body is a checkpoint (a few hundred bytes) and at most 63 proof lines."""


class HttpWitness:
    """The ledger's client of one remote witness (`ledger.service.WitnessClient`).

    `latest_size` is a hint kept in memory (0 at first): a wrong hint costs one 409 and a
    retry, never a wrong cosignature, so nothing about it needs to survive a restart.
    """

    def __init__(self, name: str, url: str, *, timeout: float = 5.0) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"witness {name}: {url[:80]!r} is not an http(s) URL")
        self.name = name
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._parsed = parsed
        self._sizes: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"HttpWitness({self.name!r}, {self.url!r})"

    def latest_size(self, origin: str) -> int:
        """The size this witness last told us it cosigned for `origin` (0 if unknown)."""
        return self._sizes.get(origin, 0)

    def add_checkpoint(self, signed_checkpoint: str | bytes, old_size: int,
                       consistency_proof: Sequence[bytes], now: int) -> str:
        """POST add-checkpoint; the cosignature line, or the refusal as an error."""
        del now  # the witness's own clock timestamps its cosignature
        text = (signed_checkpoint.decode("utf-8") if isinstance(signed_checkpoint, bytes)
                else signed_checkpoint)
        checkpoint = Checkpoint.parse(Note.parse(text).text)
        origin = checkpoint.origin
        body = AddCheckpointRequest(old_size, tuple(consistency_proof), text).format()
        connection_type = (http.client.HTTPSConnection if self._parsed.scheme == "https"
                           else http.client.HTTPConnection)
        connection = connection_type(self._parsed.hostname or "", self._parsed.port,
                                     timeout=self.timeout)
        try:
            path = (self._parsed.path.rstrip("/") or "") + "/add-checkpoint"
            connection.request("POST", path, body=body.encode("utf-8"),
                               headers={"Content-Type": "text/plain; charset=utf-8"})
            response = connection.getresponse()
            answer = response.read(MAX_REQUEST_BYTES).decode("utf-8", "replace")
            status = response.status
        finally:
            connection.close()
        if status == 200:
            self._sizes[origin] = checkpoint.size
            return answer if answer.endswith("\n") else answer + "\n"
        detail = answer.strip()[:200]
        if status == 409:
            digits = answer.strip()
            if digits.isdigit():
                self._sizes[origin] = int(digits)
                raise WitnessSizeConflictError(
                    f"witness {self.name} last cosigned size {digits}, not {old_size}",
                    latest_size=int(digits))
            raise ConflictError(f"witness {self.name} refused a fork: {detail}")
        errors: dict[int, type[LedgerError]] = {
            400: InconsistentCheckpointError, 403: SignatureError, 404: UnknownKeyError,
            422: InconsistentCheckpointError}
        error = errors.get(status)
        if error is None:
            raise OSError(f"witness {self.name} answered HTTP {status}: {detail}")
        if error is UnknownKeyError:
            raise UnknownKeyError(f"witness {self.name} does not follow this log: {detail}",
                                  key_id=origin)
        raise error(f"witness {self.name} refused the checkpoint (HTTP {status}): {detail}")


class LocalWitness(Protocol):
    """A witness with its own key and state (`ledger.installation.FileWitness`)."""

    def latest_size(self, origin: str) -> int:
        """Size last cosigned for `origin`."""
        ...

    def add_checkpoint(self, signed_checkpoint: str | bytes, old_size: int,
                       consistency_proof: Sequence[bytes], now: int) -> str:
        """Check, cosign and persist atomically."""
        ...


def handle_add_checkpoint(witness: LocalWitness, body: bytes, now: int
                          ) -> tuple[int, str, str]:
    """(status, content type, body) answering one add-checkpoint request body."""
    plain = "text/plain; charset=utf-8"
    if len(body) > MAX_REQUEST_BYTES:
        return 400, plain, "request too large\n"
    try:
        request = AddCheckpointRequest.parse(body.decode("utf-8"))
        checkpoint = Checkpoint.parse(Note.parse(request.signed_checkpoint).text)
    except (LedgerError, UnicodeDecodeError) as exc:
        return 400, plain, f"malformed request: {exc}\n"
    if request.old_size > checkpoint.size:
        return 400, plain, "old size is above the checkpoint size\n"
    try:
        line = witness.add_checkpoint(request.signed_checkpoint, request.old_size,
                                      request.proof, now)
    except UnknownKeyError as exc:
        return 404, plain, f"{exc}\n"
    except SignatureError as exc:
        return 403, plain, f"{exc}\n"
    except ConflictError:
        return 409, SIZE_MEDIA, f"{witness.latest_size(checkpoint.origin)}\n"
    except InconsistentCheckpointError as exc:
        return 422, plain, f"{exc}\n"
    except (InputError, EncodingError) as exc:
        return 400, plain, f"{exc}\n"
    return 200, plain, line
