# Two commands on a fresh machine: `make run` and `make test`.
# Both create .venv in the repository root when it is missing and install the project.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit fuzz bench data clean interop

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,dev]'
	@# An editable install leaves the project's own modules uncompiled; where
	@# PYTHONDONTWRITEBYTECODE is set, every tmec command would compile them again (~150 ms).
	$(BIN)/python -m compileall -q cli ledger origin_rules
	@touch $(STAMP)

## run: qualify the example BOMs, build the demo ledger, verify a bundle offline, serve the API
run: $(STAMP)
	@for bom in examples/*.json; do \
		echo "=== tmec rvc $$bom"; \
		$(BIN)/tmec rvc "$$bom" || exit $$?; \
	done
	@rm -rf var/demo
	@echo "=== tmec demo --out var/demo"
	$(BIN)/tmec demo --out var/demo
	@echo "=== tmec verify var/demo/bundles/cylinder-head-us.json --trust var/demo/trust.json"
	$(BIN)/tmec verify var/demo/bundles/cylinder-head-us.json --trust var/demo/trust.json
	@echo
	@echo "The demo ledger is in var/demo/ledger (use --home var/demo/ledger with tmec)."
	@echo "API keys and web sign-in passwords, one account per role: var/demo/api-keys.json"
	@echo "VC-API issuer DID and endpoints (/credentials/issue, /credentials/verify): var/demo/vc-api.json"
	@echo "Witnesses CBP, CBSA, ANAM on 127.0.0.1:8101-8103 (C2SP tlog-witness)."
	@echo "Serving http://127.0.0.1:8000 (web pages; API docs: http://127.0.0.1:8000/v1/docs); Ctrl-C stops."
	@# The witnesses run in the background, where a non-interactive shell ignores Ctrl-C
	@# for them: the trap stops exactly those three when the server ends.
	@$(BIN)/tmec witness serve --home var/demo/ledger --name cbp --port 8101 & cbp=$$!; \
	$(BIN)/tmec witness serve --home var/demo/ledger --name cbsa --port 8102 & cbsa=$$!; \
	$(BIN)/tmec witness serve --home var/demo/ledger --name anam --port 8103 & anam=$$!; \
	trap 'kill $$cbp $$cbsa $$anam 2>/dev/null' EXIT INT TERM; \
	TMEC_WITNESS_URLS=cbp=http://127.0.0.1:8101,cbsa=http://127.0.0.1:8102,anam=http://127.0.0.1:8103 \
	TMEC_KEY_ENCRYPTION_KEY_FILE=var/demo/key-encryption.key \
	TMEC_TOKEN_CONTEXT=http://127.0.0.1:8000/ns/origin-token/v1 TMEC_WEB_EXAMPLES=1 \
		$(BIN)/tmec serve --home var/demo/ledger --host 127.0.0.1 --port 8000

## test: lint, type-check and run the whole suite
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python tools/build_usmca_rules.py --check
	@test ! -f ../shared/reference/usmca_automotive_thresholds.json || cmp -s ../shared/reference/usmca_automotive_thresholds.json tools/data/usmca_automotive_thresholds.json || { echo 'tools/data/usmca_automotive_thresholds.json differs from ../shared/reference: copy it and run make data'; exit 1; }
	$(BIN)/python tools/build_usmca_psr.py --check
	@test ! -f ../shared/reference/psr/usmca_psr.jsonl || cmp -s ../shared/reference/psr/usmca_psr.jsonl tools/data/usmca_psr.jsonl || { echo 'tools/data/usmca_psr.jsonl differs from ../shared/reference/psr: copy it and run make data'; exit 1; }

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 -q

## fuzz: the property-based fuzz tests with 20,000 examples each (profile 'fuzz'); ~40 min
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 -q -m fuzz

## bench: the origin-engine and ledger benchmarks; see bench/README.md
bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_ledger.py

## interop: the W3C vc-di-eddsa test suite (eddsa-jcs-2022) against a served demo ledger;
## needs Node.js >= 18 and npm, and copies of the suite's repositories (tools/interop.sh)
interop: $(STAMP)
	PYTHON=$(BIN)/python tools/interop.sh

## data: rebuild the shipped rule set and product-specific rules from tools/data (copies of ../shared/reference)
data: $(STAMP)
	$(BIN)/python tools/build_usmca_rules.py
	$(BIN)/python tools/build_usmca_psr.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/out var
