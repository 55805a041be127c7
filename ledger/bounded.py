"""Bounded reads: a file, a device or standard input, never more than a set number of bytes.

Every document the CLI and the service read (BOMs, bundles, key and trust files) comes
through here, so that `/dev/zero` or a multi-gigabyte upload is refused by the limit that
applies, named in the error, instead of filling memory (issue 11).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from origin_rules.errors import LimitError

__all__ = ["read_capped"]

_CHUNK = 8 * 1024 * 1024


def read_capped(source: str | Path, maximum: int, what: str,
                error_factory: Callable[[str], Exception] | None = None, *,
                limit: str = "max_document_bytes") -> bytes:
    """The bytes of `source` (a path, or ``-`` for standard input), at most `maximum`.

    Reads no more than ``maximum + 1`` bytes, whatever the source: a regular file larger
    than `maximum` is refused by its size before any read, a pipe, a device
    (``/dev/zero``) or standard input in chunks until one byte too many has arrived.
    Raises ``error_factory(message)`` when the source is larger; the message names `what`
    (``"the BOM file bom.json"``) and the setting (``limit max_document_bytes = 1024``),
    and the default factory makes it a `LimitError` with that `limit` and `maximum`.
    File-system errors (missing file, a directory) are the caller's to report.
    """

    def too_large() -> Exception:
        message = f"{what} has more than {maximum} bytes (limit {limit} = {maximum})"
        if error_factory is None:
            return LimitError(message, limit=limit, maximum=maximum)
        return error_factory(message)

    if source == "-":
        return _read_stream(sys.stdin.buffer, maximum, too_large)
    with open(source, "rb") as stream:
        return _read_stream(stream, maximum, too_large)


def _read_stream(stream: BinaryIO, maximum: int, too_large: Callable[[], Exception]) -> bytes:
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError):  # a stream without a descriptor (tests, wrappers)
        size = None
    else:
        size = status.st_size if stat.S_ISREG(status.st_mode) else None
    if size is not None and size > maximum:
        raise too_large()
    # A regular file in one read of its size plus one byte (that byte shows a file that grew
    # meanwhile); anything else in chunks. One chunk is returned as it is, without a copy.
    want = _CHUNK if size is None else size + 1
    chunks: list[bytes] = []
    total = 0
    while True:
        chunk = stream.read(min(want, maximum + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > maximum:
            raise too_large()
        want = _CHUNK
    return b"".join(chunks)
