#!/usr/bin/env bash
# The W3C vc-di-eddsa test suite (eddsa-jcs-2022: interop, data model, algorithms) against
# this service's VC-API endpoints, on a temporary demo ledger. `make interop` runs it; it is
# not part of `make test` (it needs Node.js >= 18, npm and the suite's three repositories).
#
# The suite's code never enters this repository: it is cloned into $INTEROP_DIR (default
# var/interop) from local copies, or from GitHub when no copy is given and GitHub answers:
#
#   VC_DI_EDDSA_TEST_SUITE               w3c/vc-di-eddsa-test-suite
#   DATA_INTEGRITY_TEST_SUITE_ASSERTION  w3c-ccg/data-integrity-test-suite-assertion
#   VC_TEST_SUITE_IMPLEMENTATIONS        w3c/vc-test-suite-implementations
#
# (each a git repository, bare or not, or a plain directory). npm cannot always reach
# GitHub, so the suite's two `github:` dependencies are pointed at the other two copies
# (`file:`, installed as copies with --install-links) and the rest comes from the npm
# registry. A `localConfig.cjs` in the suite's folder names our issuer (its DID, the
# registrar's API key as an Authorization header) and verifier with the tags
# eddsa-jcs-2022 and localhost; mocha runs with APP_ROOT_PATH set to the suite's folder,
# which is where vc-test-suite-implementations looks for localConfig.cjs.
#
# Prints every test with its outcome, then "interop: N passing, M failing, K pending";
# exits 0 when nothing failed, 1 when a test failed, 2 when the run could not be set up.
# Other settings: PYTHON (default .venv/bin/python), INTEROP_PORT (default: a free port),
# INTEROP_FRESH=1 (clone and install again).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
WORK=${INTEROP_DIR:-$ROOT/var/interop}
SUITE=$WORK/vc-di-eddsa-test-suite

fail() { echo "interop: $*" >&2; exit 2; }

command -v node >/dev/null || fail "needs Node.js (>= 18) and npm"
command -v npm >/dev/null || fail "needs npm"
[ "$(node -p 'process.versions.node.split(".")[0] >= 18')" = true ] \
  || fail "needs Node.js >= 18, found $(node --version)"
[ -x "$PYTHON" ] || fail "no Python at $PYTHON (run 'make run' or set PYTHON)"

# --- the three copies ------------------------------------------------------------------
copy() {  # copy NAME VARIABLE GITHUB-REPO
  local name=$1 variable=$2 github=$3 target=$WORK/$1
  local source=${!variable:-}
  if [ -d "$target" ] && [ "${INTEROP_FRESH:-0}" != 1 ]; then
    return
  fi
  rm -rf "$target"
  if [ -n "$source" ]; then
    [ -e "$source" ] || fail "$variable=$source does not exist"
    if git -C "$source" rev-parse --git-dir >/dev/null 2>&1; then
      git clone --quiet "$source" "$target"
    else
      cp -R "$source" "$target"
      rm -rf "$target/node_modules"
    fi
  elif timeout 20 git ls-remote "https://github.com/$github" HEAD >/dev/null 2>&1; then
    git clone --quiet --depth 1 "https://github.com/$github" "$target"
  else
    fail "no copy of $github: set $variable to one (GitHub is not reachable)"
  fi
}
mkdir -p "$WORK"
copy vc-di-eddsa-test-suite VC_DI_EDDSA_TEST_SUITE w3c/vc-di-eddsa-test-suite
copy data-integrity-test-suite-assertion DATA_INTEGRITY_TEST_SUITE_ASSERTION \
  w3c-ccg/data-integrity-test-suite-assertion
copy vc-test-suite-implementations VC_TEST_SUITE_IMPLEMENTATIONS \
  w3c/vc-test-suite-implementations
for name in vc-di-eddsa-test-suite data-integrity-test-suite-assertion vc-test-suite-implementations; do
  rev=$(git -C "$WORK/$name" rev-parse --short HEAD 2>/dev/null || echo "not a git copy")
  echo "interop: $name at $rev"
done

# --- install ---------------------------------------------------------------------------
if [ ! -d "$SUITE/node_modules/vc-test-suite-implementations" ]; then
  node -e '
    const fs = require("fs"); const file = process.argv[1];
    const manifest = JSON.parse(fs.readFileSync(file, "utf8"));
    manifest.dependencies["data-integrity-test-suite-assertion"] =
      "file:../data-integrity-test-suite-assertion";
    manifest.dependencies["vc-test-suite-implementations"] =
      "file:../vc-test-suite-implementations";
    fs.writeFileSync(file, JSON.stringify(manifest, null, 2) + "\n");' "$SUITE/package.json"
  (cd "$SUITE" && npm install --no-audit --no-fund --omit=dev --install-links --loglevel=error) \
    || fail "npm install failed in $SUITE"
fi

# --- a demo ledger, served -------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tmec-interop.XXXXXX")
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
PORT=${INTEROP_PORT:-$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
URL=http://127.0.0.1:$PORT
"$PYTHON" -m cli demo --out "$TMP/demo" --url "$URL" >"$TMP/demo.log" 2>&1 \
  || { cat "$TMP/demo.log" >&2; fail "tmec demo failed"; }
TMEC_KEY_ENCRYPTION_KEY_FILE=$TMP/demo/key-encryption.key TMEC_PUBLIC_URL=$URL \
  "$PYTHON" -m cli serve --home "$TMP/demo/ledger" --host 127.0.0.1 --port "$PORT" \
  >"$TMP/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 150); do
  if "$PYTHON" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
       "$URL/readyz" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || { cat "$TMP/serve.log" >&2; fail "tmec serve stopped"; }
  sleep 0.2
done
echo "interop: tmec serve on $URL (demo ledger in $TMP/demo)"

# --- localConfig.cjs: our endpoints ----------------------------------------------------
node -e '
  const fs = require("fs");
  const [vcApi, keys, target] = process.argv.slice(1);
  const api = JSON.parse(fs.readFileSync(vcApi, "utf8"));
  const registrar = JSON.parse(fs.readFileSync(keys, "utf8")).keys
    .find(k => k.role === "registrar").apiKey;
  const tags = ["eddsa-jcs-2022", "localhost"];
  const config = {
    settings: {enableInteropTests: false, testAllImplementations: false},
    implementations: [{
      name: "T-MEC origin ledger", implementation: "tmec serve (local)",
      issuers: [{id: api.issuer, endpoint: api.issue, supports: {vc: ["2.0"]}, tags,
                 headers: {Authorization: `Bearer ${registrar}`}}],
      verifiers: [{id: api.issuer, endpoint: api.verify, supports: {vc: ["1.1", "2.0"]}, tags}]
    }]
  };
  fs.writeFileSync(target, "// written by tools/interop.sh for one run\nmodule.exports = " +
    JSON.stringify(config, null, 2) + ";\n");' \
  "$TMP/demo/vc-api.json" "$TMP/demo/api-keys.json" "$SUITE/localConfig.cjs"

# --- the suite -------------------------------------------------------------------------
REPORT=$TMP/mocha.json
set +e
(cd "$SUITE" && APP_ROOT_PATH=$SUITE npx --no-install mocha \
  tests/60-jcs-interop.js tests/70-data-model.js tests/80-algorithms.js \
  --timeout 15000 --preserve-symlinks --reporter json --reporter-option "output=$REPORT") \
  >"$TMP/mocha.log" 2>&1
status=$?
set -e
rm -f "$SUITE/localConfig.cjs"  # it holds a key of this run's demo ledger
[ -s "$REPORT" ] || { cat "$TMP/mocha.log" >&2; fail "mocha wrote no report (exit $status)"; }
node -e '
  const report = require(process.argv[1]);
  for (const test of report.tests) {
    const outcome = report.failures.some(f => f.fullTitle === test.fullTitle) ? "FAIL"
      : report.pending.some(p => p.fullTitle === test.fullTitle) ? "skip" : "pass";
    console.log(`${outcome}  ${test.fullTitle}`);
    if (outcome === "FAIL") {
      const failure = report.failures.find(f => f.fullTitle === test.fullTitle);
      console.log(`      ${(failure.err.message || "").split("\n")[0]}`);
    }
  }
  const s = report.stats;
  console.log(`interop: ${s.passes} passing, ${s.failures} failing, ${s.pending} pending`);
  process.exit(s.failures ? 1 : 0);' "$REPORT"
