"""ledger: signed origin tokens, an append-only Merkle log, witnessed checkpoints, bundles.

The core is pure (no web framework, no database): canonical JSON (`canonical`), Ed25519
(`crypto`, the only PyNaCl importer), RFC 6962 trees (`merkle`), C2SP notes, checkpoints,
witnesses and trust policies (`note`, `checkpoint`, `witness`, `policy`), W3C VC origin
tokens with eddsa-jcs-2022 (`token`), log statements and key state (`statements`, `keys`),
the use cases (`service.Ledger`) and the one offline verifier (`verify.verify`), with the
typed values at the API's boundary: `bundle.Bundle`, `status.TokenStatus` and
`verify.Verification` (each with a strict ``from_dict`` and a ``to_dict``). Storage is
behind `store.LogStore`: `store.MemoryStore` here, `ledger.store.sql.SqlStore` (SQLite or
PostgreSQL) imported explicitly by those who need it.
"""

from ledger.bundle import Bundle, LoggedStatement
from ledger.errors import LedgerError
from ledger.service import AuditReport, IssueResult, Ledger
from ledger.status import EvidenceState, KeyState, TokenState, TokenStatus
from ledger.store import LogStore, MemoryStore
from ledger.token import Certification, Certifier, CertifierRole, Party, build_origin_token
from ledger.verify import (
    Check,
    Decision,
    Outcome,
    TrustFile,
    Verification,
    VerifyOptions,
    verify,
)

__all__ = [
    "AuditReport",
    "Bundle",
    "Certification",
    "Certifier",
    "CertifierRole",
    "Check",
    "Decision",
    "EvidenceState",
    "IssueResult",
    "KeyState",
    "Ledger",
    "LedgerError",
    "LogStore",
    "LoggedStatement",
    "MemoryStore",
    "Outcome",
    "Party",
    "TokenState",
    "TokenStatus",
    "TrustFile",
    "Verification",
    "VerifyOptions",
    "build_origin_token",
    "verify",
]
