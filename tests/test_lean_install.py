"""The lean install (issue 7): a customs office verifies bundles with the base package only.

`pyproject.toml`'s base dependencies are what `ledger.verify` and the origin engine it
recomputes with need; SQL, PostgreSQL, Excel and the CLI's libraries are extras. Two
checks of that promise:

* a Python in which every module of the extras is *blocked* (a `sys.meta_path` finder
  raises ModuleNotFoundError, as for a package that is not installed, and records the
  attempt) imports `ledger.verify`, verifies real bundles made by `tmec demo` and
  qualifies a JSON BOM; nothing even tries to import a blocked module, except the Excel
  reader, which must then say in one line which extra is missing;
* the base dependency list names none of those distributions, and `dev` (what `make test`
  installs) still reaches every extra.

`tmec` itself without the `cli` extra says so in one line instead of a traceback.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, run_tmec

#: Import names of what the extras install (directly or through their own dependencies).
BLOCKED = ("sqlalchemy", "sqlmodel", "alembic", "mako", "psycopg", "psycopg_binary",
           "openpyxl", "et_xmlfile", "typer", "rich", "click", "pydantic", "pydantic_core",
           "joserfc", "cryptography")
#: The same as distribution names (PEP 503 normalised), for the dependency lists.
EXTRA_DISTRIBUTIONS = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "psycopg-binary",
                       "openpyxl", "typer", "rich", "click", "pydantic", "joserfc",
                       "cryptography")

BLOCKER = f"""
import sys

BLOCKED = {BLOCKED!r}
preloaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
attempts = []


class Blocker:
    \"\"\"Every module of the extras is 'not installed'; each attempt is recorded.\"\"\"

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}} (lean install)", name=name)
        return None


sys.meta_path.insert(0, Blocker())
"""

CUSTOMS_OFFICE = BLOCKER + """
import json
import time
from pathlib import Path

from ledger.verify import TrustFile, verify

trust_path, examples, *bundles = sys.argv[1:]
trust = TrustFile.from_json(Path(trust_path).read_bytes())
decisions = {}
for path in bundles:
    result = verify(Path(path).read_bytes(), trust, now=int(time.time()))
    decisions[Path(path).name] = str(getattr(result.decision, "value", result.decision))
verify_attempts = list(attempts)

from origin_rules import determine_origin, parse_bom_json, parse_bom_xlsx
from origin_rules.errors import OriginRulesError

bom = parse_bom_json((Path(examples) / "brake-caliper-mx.json").read_bytes())
determination = determine_origin(bom)
engine_attempts = list(attempts)
try:
    parse_bom_xlsx((Path(examples) / "tables" / "brake-caliper-mx.xlsx").read_bytes())
except OriginRulesError as exc:
    excel = str(exc)
else:
    excel = None
print(json.dumps({
    "preloaded": preloaded, "decisions": decisions, "verify_attempts": verify_attempts,
    "originating": determination.originating, "criterion": determination.criterion,
    "graph_nodes": bom.graph.number_of_nodes(), "engine_attempts": engine_attempts,
    "excel_error": excel, "attempts": attempts,
}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo ledger with its bundles and trust file, made by the full install's `tmec`."""
    out = tmp_path_factory.mktemp("lean") / "demo"
    result = run_tmec("demo", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def _lean_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def test_customs_verifies_bundles_and_qualifies_a_bom_without_the_extras(demo: Path) -> None:
    bundles = sorted((demo / "bundles").glob("*.json"))
    # One with every line disclosed (the RVC is recomputed), one nesting a supplier bundle.
    assert {"brake-caliper-mx.customs.json", "cylinder-head-us.json"} <= {
        b.name for b in bundles}
    started = time.time()
    done = _lean_python(CUSTOMS_OFFICE, str(demo / "trust.json"), str(ROOT / "examples"),
                        *map(str, bundles))
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["preloaded"] == []
    assert report["verify_attempts"] == [], "verification tried to import an extra"
    assert report["decisions"] == {b.name: "clear" for b in bundles}, (
        f"made {time.time() - started:.0f} s ago: {report['decisions']}")
    assert report["engine_attempts"] == []
    assert (report["originating"], report["criterion"]) == (True, "B")
    assert report["graph_nodes"] > 0  # networkx is part of the base
    # The Excel reader is the one place that reaches for an extra, and says which.
    assert report["attempts"] == ["openpyxl"]
    excel = report["excel_error"]
    assert excel is not None
    assert "'excel' extra" in excel
    assert "pip install 'tmec-ledger[excel]'" in excel
    assert "\n" not in excel


def test_the_cli_names_the_missing_excel_extra_in_one_line() -> None:
    """A broken install (the CLI without openpyxl): one line and exit 3, no traceback."""
    script = BLOCKER.replace(f"BLOCKED = {BLOCKED!r}", "BLOCKED = ('openpyxl',)") + (
        "from cli.app import main\n"
        "sys.argv = ['tmec', 'rvc', sys.argv[1]]\n"
        "main()\n")
    done = _lean_python(script, str(ROOT / "examples" / "tables" / "brake-caliper-mx.xlsx"))
    assert done.returncode == 3, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error [rules.error]: reading Excel workbooks needs the "
                               "'excel' extra")


def test_tmec_without_the_cli_extra_says_so_in_one_line() -> None:
    script = BLOCKER + "from cli.app import main\nmain()\n"
    done = _lean_python(script, "--version")
    assert done.returncode == 70
    assert done.stderr.splitlines() == [
        "error [install.extra_missing]: the tmec command needs the 'cli' extra (typer is "
        "not installed): pip install 'tmec-ledger[cli]'"]


# ---------------------------------------------------------------------------------------
# pyproject.toml

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
SELF = "tmec-ledger"


def _distribution(requirement: str) -> tuple[str, set[str]]:
    """(normalised distribution name, extras) of a PEP 508 requirement string."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?", requirement)
    assert match, requirement
    extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), extras


def _closure(extra: str) -> set[str]:
    """Every distribution `pip install tmec-ledger[extra]` asks for, self-references
    followed."""
    wanted = {_distribution(r)[0] for r in PROJECT["dependencies"]}
    pending, seen = [extra], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for requirement in PROJECT["optional-dependencies"][name]:
            distribution, extras = _distribution(requirement)
            if distribution == SELF:
                pending.extend(extras)
            else:
                wanted.add(distribution)
    return wanted


def test_the_base_dependencies_name_no_extra() -> None:
    base = {_distribution(r)[0] for r in PROJECT["dependencies"]}
    assert base == {"networkx", "msgspec", "pynacl", "rfc8785"}
    assert base.isdisjoint(EXTRA_DISTRIBUTIONS)


@pytest.mark.parametrize(("extra", "needs"), [
    ("sql", {"sqlalchemy", "alembic", "psycopg"}),
    ("excel", {"openpyxl"}),
    ("jose", {"joserfc"}),
    ("cli", {"typer", "rich", "sqlalchemy", "alembic", "psycopg", "openpyxl", "joserfc"}),
    ("all", {"typer", "rich", "sqlalchemy", "alembic", "psycopg", "openpyxl", "joserfc"}),
    # What `make test` installs: every extra, so the whole suite (PostgreSQL too) runs.
    ("dev", {"typer", "rich", "sqlalchemy", "alembic", "psycopg", "openpyxl", "pytest",
             "pytest-xdist", "hypothesis", "mypy", "ruff", "pymerkle"}),
])
def test_each_extra_brings_what_its_code_imports(extra: str, needs: set[str]) -> None:
    assert needs <= _closure(extra)


def test_sqlmodel_is_no_longer_a_dependency() -> None:
    assert "sqlmodel" not in _closure("dev")


def test_the_makefile_installs_every_extra() -> None:
    makefile = (ROOT / "Makefile").read_text("utf-8")
    install = re.search(r"pip install [^\n]*-e '\.\[([^\]]*)\]'", makefile)
    assert install, "the Makefile's install step"
    extras = {e.strip() for e in install.group(1).split(",")}
    assert set().union(*(_closure(e) for e in extras)) >= _closure("all")


#: SHA-256 of https://www.apache.org/licenses/LICENSE-2.0.txt (also Debian's
#: /usr/share/common-licenses/Apache-2.0): the license text must be verbatim.
APACHE_2_0_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"


def test_the_license_file_is_the_apache_license_it_claims() -> None:
    data = (ROOT / "LICENSE").read_bytes()
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert hashlib.sha256(data).hexdigest() == APACHE_2_0_SHA256
