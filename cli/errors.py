"""The one place that turns domain errors into exit codes and one-line messages.

Exit codes: 0 evaluated (whatever the outcome), 1 verification or ledger failure,
2 usage (Click's own), 3 invalid input or data, 4 service unavailable. Only our two error
trees and file-system errors are caught: `typer.Exit` and Click's exceptions subclass
`RuntimeError`, so a blanket ``except Exception`` would swallow them.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from origin_rules.errors import OriginRulesError

P = ParamSpec("P")
R = TypeVar("R")

#: Error code prefix (or full code) -> exit code; the longest matching key wins.
EXIT_CODES: dict[str, int] = {
    "rules": 3,
    "ledger": 1,
    "ledger.encoding_invalid": 3,
    "ledger.input_invalid": 3,
    "ledger.not_found": 3,
    "ledger.policy_invalid": 3,
    "ledger.token_invalid": 3,
    "ledger.store_unavailable": 4,
    "io": 3,
}


def exit_code(code: str) -> int:
    """Exit code for an error code, by longest matching dotted prefix."""
    parts = code.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in EXIT_CODES:
            return EXIT_CODES[key]
    return 1


def fail(code: str, message: str) -> typer.Exit:
    """Print ``error [code]: message`` on one line of stderr and return the Exit to raise."""
    one_line = " ".join(message.split())
    print(f"error [{code}]: {one_line}", file=sys.stderr)
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


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Decorate a command: domain and file errors become a one-line message and exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except _domain_errors() as exc:
            raise fail(getattr(exc, "code", "error"), str(exc)) from None
        except OSError as exc:
            where = f": {exc.filename}" if exc.filename else ""
            raise fail("io.unreadable", f"{exc.strerror or exc}{where}") from None
        except UnicodeDecodeError as exc:
            raise fail("io.not_text", f"the file is not UTF-8 text ({exc.reason})") from None

    return wrapper
