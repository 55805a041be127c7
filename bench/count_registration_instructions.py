"""Instructions per registration (issue 8): what one `POST /v1/tokens` costs in CPU work.

    .venv/bin/python bench/count_registration_instructions.py            # 20 and 70
    .venv/bin/python bench/count_registration_instructions.py --root ../other-checkout

Wall-clock rates on a shared 2-core machine move with whatever else runs; the instruction
count of `valgrind --tool=callgrind` does not. The same registration code the route runs
(the BOM reader, then `issue_with_held_key`: held key, certification, status index,
`Ledger.prepare_token`, `Service.log_prepared`) runs N times in one process over a copy
of the demo ledger (SQLite), once with 20 and once with 70 registrations; the difference
divided by 50 is the work of one registration, start-up excluded. `--root` measures
another checkout of the repository with this venv (a baseline commit in a `git
worktree`). Under callgrind a run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COLLECTED = re.compile(r"Collected : (\d+)")


def demo_copy(demo: Path) -> tuple[Path, dict[str, str], Any]:
    """A fresh copy of the demo workspace `demo`: its folder, its API keys by account, and
    the API settings over it (no checkpoints during a count). Imports the `ledger` of
    whichever tree the caller put first on `sys.path`.
    """
    from ledger.api import ApiSettings
    from ledger.config import DEFAULT_ORIGIN, Settings

    out = Path(tempfile.mkdtemp()) / "demo"
    shutil.copytree(demo, out)
    keys = {k["account"]: k["apiKey"]
            for k in json.loads((out / "api-keys.json").read_text("utf-8"))["keys"]}
    kek = bytes.fromhex((out / "key-encryption.key").read_text("ascii").strip())
    url = f"sqlite:///{out / 'ledger' / 'ledger.db'}"
    settings = ApiSettings(ledger=Settings(out / "ledger", url, DEFAULT_ORIGIN),
                           checkpoint_every=3600, key_encryption_key=kek)
    return out, keys, settings


def register(count: int, demo: Path, root: Path) -> None:
    """`count` registrations of the brake caliper's BOM over a copy of `demo`."""
    sys.path.insert(0, str(root))
    from fastapi.testclient import TestClient

    from ledger.api import create_app
    from ledger.api.access import Caller
    from ledger.api.routes.issue import IssueRequest, issue_with_held_key, read_bom_upload

    _, keys, settings = demo_copy(demo)
    app = create_app(settings, checkpointer=False)
    bom_doc = json.loads((ROOT / "examples" / "brake-caliper-mx.json").read_text("utf-8"))
    with TestClient(app):
        service = app.state.service
        service.sequencer = None  # one registration at a time, in this thread
        caller = Caller(service.accounts.authenticate(keys["frenos-bajio.producer"]))
        for n in range(count):
            body = IssueRequest.model_validate({"shipmentId": f"IC-{n}", "bom": bom_doc})
            files = {"bom": ("bom.json", json.dumps(body.bom).encode("utf-8"))}
            bom = read_bom_upload("json", files, {})
            issue_with_held_key(service, caller, body, bom)


def instructions(count: int, demo: Path, root: Path) -> int:
    """Callgrind's instruction count of one process doing `count` registrations."""
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, __file__, "--run", str(count), "--demo", str(demo),
               "--root", str(root)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    found = COLLECTED.search(done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--demo", type=Path, default=HERE / "out" / "registration-demo")
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args()
    if args.run is not None:
        register(args.run, args.demo, args.root.resolve())
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    if not (args.demo / "api-keys.json").exists():
        shutil.rmtree(args.demo, ignore_errors=True)
        subprocess.run([str(ROOT / ".venv" / "bin" / "tmec"), "demo", "--out", str(args.demo)],
                       check=True, capture_output=True)
    low, high = instructions(20, args.demo, args.root), instructions(70, args.demo, args.root)
    print(f"| {args.root.resolve()} | {low:,} | {high:,} | {(high - low) // 50:,} |")


if __name__ == "__main__":
    main()
