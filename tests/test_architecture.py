"""The dependency direction of `design/architecture.md`, enforced over the repo's own files.

    cli, ledger.api, ledger.web  ->  ledger core, ledger.store  ->  origin_rules

* `origin_rules` is a pure domain library: it imports nothing of the ledger, the CLI or
  any web, database, crypto or terminal framework, and never reads the environment.
* The ledger core (everything in `ledger/` but its adapters `api/`, `web/` and the SQL
  store) loads no web, database or terminal framework and not the CLI.
* `ledger/crypto.py` is the only importer of PyNaCl, `ledger/jose.py` of the JOSE library.
* Nothing imports `cli` or `ledger.api`, except `cli` itself (and a package its own
  modules) and the web pages: `ledger.web` is mounted in the API's app and calls the API's
  `Service` and access layer, so it may import `ledger.api` (never `ledger.api.app`, which
  mounts it); in `ledger.api` only `app.py` imports `ledger.web`.
* ``import ledger, origin_rules`` loads neither FastAPI, SQLModel, Typer nor Rich.

Files are discovered, not listed: a new module is checked as soon as it exists. Imports
are read with `ast` from every ``import``, ``from ... import`` (relative ones resolved),
``importlib.import_module("...")`` and ``__import__("...")``, wherever they appear
(inside functions and ``if TYPE_CHECKING:`` blocks too: a dependency is a dependency).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("origin_rules", "ledger", "cli")


@dataclass(frozen=True)
class Import:
    module: str  # absolute dotted name
    line: int

    def is_of(self, package: str) -> bool:
        """True when this import loads `package` or one of its submodules."""
        return self.module == package or self.module.startswith(package + ".")


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # dotted module name

    @property
    def relative(self) -> str:
        return self.path.relative_to(ROOT).as_posix()

    @property
    def package(self) -> str:
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    def tree(self) -> ast.Module:
        return ast.parse(self.path.read_text(encoding="utf-8"), filename=str(self.path))

    def imports(self) -> list[Import]:
        return imports_of(self.tree(), self.package)

    def is_in(self, package: str) -> bool:
        return self.name == package or self.name.startswith(package + ".")


def discover(package: str) -> list[Module]:
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found.append(Module(path, ".".join(parts)))
    return found


def imports_of(tree: ast.AST, package: str) -> list[Import]:
    """Every module `tree` imports, as absolute names; `package` resolves relative ones."""
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.append(Import(base, node.lineno))
            # `from ledger import api` loads ledger.api: count the names as modules too.
            found += [Import(f"{base}.{alias.name}", node.lineno) for alias in node.names
                      if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = (func.attr if isinstance(func, ast.Attribute)
                    else func.id if isinstance(func, ast.Name) else None)
            first = node.args[0]
            if name in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                found.append(Import(first.value, node.lineno))
    return found


def environment_reads(tree: ast.AST) -> list[int]:
    """Lines that touch the process environment (os.environ, os.getenv, ...)."""
    names = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}
    lines = []
    for node in ast.walk(tree):
        attribute = isinstance(node, ast.Attribute) and node.attr in names
        imported = isinstance(node, ast.ImportFrom) and node.module == "os" and any(
            alias.name in names for alias in node.names)
        if attribute or imported:
            lines.append(node.lineno)
    return lines


ALL = [module for package in PACKAGES for module in discover(package)]


def modules(*, where: Callable[[Module], bool]) -> list[object]:
    return [pytest.param(m, id=m.relative) for m in ALL if where(m)]


def violations(module: Module, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{module.relative}:{imp.line} imports {imp.module}"
            for imp in module.imports() for package in forbidden if imp.is_of(package)]


# ---------------------------------------------------------------------------------------
# The discovery itself

def test_discovery_finds_the_packages() -> None:
    names = {m.name for m in ALL}
    assert {"origin_rules", "origin_rules.reader", "origin_rules.engine", "ledger",
            "ledger.crypto", "cli", "cli.app"} <= names
    assert all(not m.relative.startswith((".venv", "tests")) for m in ALL)


def test_the_import_reader_sees_every_form_of_import() -> None:
    source = (
        "import fastapi.routing\n"
        "from sqlmodel import Field\n"
        "from . import sibling\n"
        "from ..store import sql\n"
        "from ledger import api\n"
        "def later():\n"
        "    import rich\n"
        "    importlib.import_module('typer')\n"
        "    __import__('nacl.signing')\n"
        "if TYPE_CHECKING:\n"
        "    from cli.app import app\n"
    )
    found = {imp.module for imp in imports_of(ast.parse(source), "ledger.api")}
    assert {"fastapi.routing", "sqlmodel", "sqlmodel.Field", "ledger.api.sibling",
            "ledger.store.sql", "ledger.api", "rich", "typer", "nacl.signing",
            "cli.app"} <= found
    assert environment_reads(ast.parse("import os\nos.environ['X']\n")) == [2]
    assert environment_reads(ast.parse("from os import getenv\n")) == [1]
    assert environment_reads(ast.parse("import os\nos.path.join('a')\n")) == []


# ---------------------------------------------------------------------------------------
# origin_rules: the pure domain library

ORIGIN_RULES_MUST_NOT_IMPORT = ("ledger", "cli", "fastapi", "starlette", "sqlmodel",
                                "sqlalchemy", "nacl", "typer", "rich", "httpx")


@pytest.mark.parametrize("module", modules(where=lambda m: m.is_in("origin_rules")))
def test_origin_rules_imports_no_framework_ledger_or_cli(module: Module) -> None:
    assert violations(module, ORIGIN_RULES_MUST_NOT_IMPORT) == []


@pytest.mark.parametrize("module", modules(where=lambda m: m.is_in("origin_rules")))
def test_origin_rules_never_reads_the_environment(module: Module) -> None:
    assert environment_reads(module.tree()) == [], module.relative


@pytest.mark.parametrize("module", modules(where=lambda m: m.is_in("origin_rules")))
def test_origin_rules_leaves_the_garbage_collector_alone(module: Module) -> None:
    """No process-wide side effects in the library: pausing the cyclic collector around a
    large BOM is the caller's decision (the CLI's `paused_gc`)."""
    assert violations(module, ("gc",)) == []


# ---------------------------------------------------------------------------------------
# ledger core

LEDGER_ADAPTERS = ("ledger/api/", "ledger/web/", "ledger/store/sql")
LEDGER_CORE_MUST_NOT_IMPORT = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "typer",
                               "rich", "cli", "ledger.api", "ledger.web")


def is_ledger_core(module: Module) -> bool:
    return module.is_in("ledger") and not module.relative.startswith(LEDGER_ADAPTERS)


@pytest.mark.parametrize("module", modules(where=is_ledger_core))
def test_the_ledger_core_imports_no_framework_or_adapter(module: Module) -> None:
    assert violations(module, LEDGER_CORE_MUST_NOT_IMPORT) == []


@pytest.mark.parametrize("module", modules(where=lambda m: m.relative != "ledger/crypto.py"))
def test_only_ledger_crypto_imports_pynacl(module: Module) -> None:
    assert violations(module, ("nacl",)) == []


def test_ledger_crypto_is_where_pynacl_is_used() -> None:
    crypto = next(m for m in ALL if m.relative == "ledger/crypto.py")
    assert any(imp.is_of("nacl") for imp in crypto.imports())


@pytest.mark.parametrize("module", modules(where=lambda m: m.relative != "ledger/jose.py"))
def test_only_ledger_jose_imports_the_jose_library(module: Module) -> None:
    assert violations(module, ("joserfc", "jwt", "jwcrypto", "jose", "authlib")) == []


def test_ledger_jose_is_where_joserfc_is_used() -> None:
    jose = next(m for m in ALL if m.relative == "ledger/jose.py")
    assert any(imp.is_of("joserfc") for imp in jose.imports())


# ---------------------------------------------------------------------------------------
# Nothing imports the outer layers

@pytest.mark.parametrize("module", modules(where=lambda m: not m.is_in("cli")))
def test_nothing_imports_cli_or_the_api_except_cli(module: Module) -> None:
    if module.is_in("ledger.api"):
        forbidden: tuple[str, ...] = ("cli",)
    elif module.is_in("ledger.web"):  # the pages run on the API's Service and access rules
        forbidden = ("cli", "ledger.api.app")
    else:
        forbidden = ("cli", "ledger.api")
    assert violations(module, forbidden) == []


@pytest.mark.parametrize("module", modules(where=lambda m: m.is_in("ledger.api")
                                           and m.relative != "ledger/api/app.py"))
def test_only_the_app_factory_mounts_the_web_pages(module: Module) -> None:
    assert violations(module, ("ledger.web",)) == []


def test_the_web_pages_are_checked_by_these_rules() -> None:
    names = {m.name for m in ALL}
    assert {"ledger.web.access", "ledger.web.credentials", "ledger.web.pages"} <= names


# ---------------------------------------------------------------------------------------
# What importing the libraries loads

HEAVY = ("fastapi", "starlette", "sqlmodel", "sqlalchemy", "typer", "rich", "click", "httpx")


def test_importing_ledger_and_origin_rules_loads_no_framework() -> None:
    probe = (
        "import sys\n"
        "import ledger, origin_rules\n"
        "import origin_rules.reader, origin_rules.engine\n"
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded: {done.stdout.strip()}"


def test_every_core_module_imports_without_frameworks() -> None:
    names = [m.name for m in ALL if m.is_in("origin_rules") or is_ledger_core(m)]
    probe = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(','.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"loaded: {done.stdout.strip()}"


def test_every_package_is_in_the_distribution() -> None:
    """pyproject's explicit `packages` list names every package of the three trees, so a
    built wheel is not missing one (origin_rules.engine was, while editable installs hid it).
    """
    import tomllib

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(init.parent.relative_to(root).parts)
             for tree in ("origin_rules", "ledger", "cli")
             for init in (root / tree).rglob("__init__.py")}
    assert found - listed == set()
