"""The one place that turns errors into exit codes and one-line messages.

Exit codes (the README has the same table):

| code | meaning |
|---|---|
| 0 | done: the document was evaluated (whatever the verdict), the bundle verified `clear` |
| 1 | `tmec verify`: the bundle is `reject` |
| 2 | usage: unknown command or option, missing argument (Click's own) |
| 3 | invalid input: a malformed BOM, bundle, token, trust file, key file or option |
| 4 | the database is unavailable or busy; retry |
| 5 | `tmec verify`: the bundle needs `review` |
| 6 | not found: no such token, key, entry, file or workspace |
| 7 | refused by the ledger: not authorised, wrong or revoked key, conflict with the log |
| 8 | integrity failure: stored data or a proof does not match what the log committed to |
| 9 | an input exceeds a configured limit (the message names the setting) |
| 70 | internal error: a bug; one line, ``TMEC_DEBUG=1`` shows the traceback |

Only our two error trees, file-system errors and, as a last resort, anything unexpected
are caught here: `typer.Exit`, `typer.Abort` and Click's exceptions pass through untouched
(they subclass `RuntimeError`, so a blanket ``except Exception`` alone would swallow them).

Messages are one line, shown as text (`cli.terminal.printable`: a message quoting a hostile
document cannot move the cursor) and at most `MAX_MESSAGE` characters.
"""

from __future__ import annotations

import functools
import os
import sys
import traceback
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from cli.terminal import printable
from origin_rules.errors import OriginRulesError

P = ParamSpec("P")
R = TypeVar("R")

OK, REJECT, USAGE, INVALID_INPUT, UNAVAILABLE, REVIEW = 0, 1, 2, 3, 4, 5
NOT_FOUND, REFUSED, INTEGRITY, LIMIT, INTERNAL = 6, 7, 8, 9, 70

#: Error code prefix (or full code) -> exit code; the longest matching key wins.
EXIT_CODES: dict[str, int] = {
    "rules": INVALID_INPUT,
    "rules.limit_exceeded": LIMIT,
    "ledger": REFUSED,
    "ledger.encoding_invalid": INVALID_INPUT,
    "ledger.input_invalid": INVALID_INPUT,
    "ledger.token_invalid": INVALID_INPUT,
    "ledger.credential_invalid": INVALID_INPUT,
    "ledger.jose_invalid": INVALID_INPUT,
    "ledger.hypothetical_rule_set": REFUSED,  # a what-if determination given for a token
    "ledger.bundle_invalid": INVALID_INPUT,
    "ledger.policy_invalid": INVALID_INPUT,
    "ledger.out_of_range": INVALID_INPUT,
    "ledger.not_found": NOT_FOUND,
    "ledger.signature_invalid": REFUSED,
    "ledger.unknown_key": REFUSED,
    "ledger.key_revoked": REFUSED,
    "ledger.conflict": REFUSED,
    "ledger.tampered": INTEGRITY,
    "ledger.proof_invalid": INTEGRITY,
    "ledger.checkpoint_inconsistent": INTEGRITY,
    "ledger.store_unavailable": UNAVAILABLE,
    "ledger.limit_exceeded": LIMIT,
    "ledger.not_configured": UNAVAILABLE,
    "api": REFUSED,  # the service refused (tmec remote): no key, not your token, ...
    "api.not_found": NOT_FOUND,
    "api.request_invalid": INVALID_INPUT,
    "api.unsupported_media_type": INVALID_INPUT,
    "api.too_large": LIMIT,
    "api.not_ready": UNAVAILABLE,
    "api.serve_failed": UNAVAILABLE,
    "io": INVALID_INPUT,
    "io.not_found": NOT_FOUND,
    "resource": LIMIT,
    "internal": INTERNAL,
}

#: Longest message printed; a document can make an error quote a megabyte.
MAX_MESSAGE = 600


def exit_code(code: str) -> int:
    """Exit code for an error code, by longest matching dotted prefix."""
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in EXIT_CODES:
            return EXIT_CODES[key]
    return INTERNAL


def one_line(message: str) -> str:
    """The message on one line, hidden characters escaped, at most `MAX_MESSAGE` long."""
    text = printable(" ".join(message.split()))
    if len(text) > MAX_MESSAGE:
        text = text[:MAX_MESSAGE - 30].rstrip() + f" ... ({len(text)} characters)"
    return text


def fail(code: str, message: str) -> typer.Exit:
    """Print ``error [code]: message`` on one line of stderr and return the Exit to raise."""
    print(f"error [{code}]: {one_line(message)}", file=sys.stderr)
    return typer.Exit(exit_code(code))


def _domain_errors() -> tuple[type[Exception], ...]:
    errors: list[type[Exception]] = [OriginRulesError]
    try:
        from ledger.errors import LedgerError
    except ImportError:  # the ledger core is optional for the engine commands
        pass
    else:
        errors.append(LedgerError)
    return tuple(errors)


def _is_click_exception(exc: Exception) -> bool:
    """Click's own exceptions (Typer vendors Click, so match them by their interface)."""
    return hasattr(exc, "exit_code") and callable(getattr(exc, "show", None))


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: every failure becomes a one-line message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except _domain_errors() as exc:
            raise fail(getattr(exc, "code", "internal"), str(exc)) from None
        except FileNotFoundError as exc:
            raise fail("io.not_found", f"no such file: {exc.filename}") from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise fail("io.unreadable", f"{exc.strerror or exc}{where}") from None
        except UnicodeDecodeError as exc:
            raise fail("io.not_text", f"the file is not UTF-8 text ({exc.reason})") from None
        except MemoryError:
            raise fail("resource.memory", "ran out of memory; lower the input limits "
                                          "(TMEC_MAX_* settings) or the input") from None
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            raise typer.Exit(130) from None
        except Exception as exc:
            if _is_click_exception(exc):  # usage errors: Click prints them, exit code 2
                raise
            if os.environ.get("TMEC_DEBUG"):
                traceback.print_exc()
            raise fail("internal", f"unexpected {type(exc).__name__}: {exc} (a bug in "
                                   "tmec; TMEC_DEBUG=1 shows the traceback)") from None

    return wrapper
