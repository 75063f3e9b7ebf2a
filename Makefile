# Every target creates .venv and installs what it needs on first use (stamp files make the
# second call fast). `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-dev
NODE_STAMP := node_modules/.stamp
SAM_VENV := .venv-sam
SAM_STAMP := $(SAM_VENV)/.stamp
COMPAT_VENV := .venv-compat
COMPAT_STAMP := $(COMPAT_VENV)/.stamp

# Knobs (override on the command line: make run DAYS=60 CASH=1000); `make help` lists them.
DATA       ?=
START      ?=
END        ?=
CASH       ?= 500
DAYS       ?= 20
SEED       ?= 7
CHAOS_SEED ?= 7
OUT        ?=
GRID       ?= ema_span=5,10,20 max_positions=3,5,10
EVENT      ?= events/dry-run.json
# make paperbroker's first session: the day the events in events/ name, so they trade on it.
BROKER_START := 2026-11-24

DATA_ARG  = $(if $(DATA),--data $(DATA),--synthetic --seed $(SEED))
START_ARG = $(if $(START),--start $(START),)
END_ARG   = $(if $(END),--end $(END),)
# Each target writes into its own folder unless OUT is given: $(call OUT_DIR,run) -> out/run
OUT_DIR   = $(or $(OUT),out/$(1))
# The commands name a bad value by the knob that set it (DAYS), not only by its flag (--days).
PY        = MAKE_KNOBS=1 $(BIN)/python

.PHONY: help
help: ## List the targets and the knobs
	@echo "Targets:"
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} \
	  {name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1)} \
	  END {for (i = 1; i <= NR; i++) printf "  make %-" w "s  %s\n", name[i], text[i]}'
	@echo "Knobs (make run DAYS=60 CASH=1000):"
	@printf '  %-10s  %s\n' \
	  DATA 'CSV of daily bars, date,symbol,open,high,low,close,volume (default: synthetic market)' \
	  START 'first session (default: run, chaos a year into the data; backtest, sweep the first;' \
	  '' 'paperbroker $(BROKER_START), the day of events/*.json)' \
	  END 'last session of backtest, sweep (default: the last of the data)' \
	  CASH 'opening cash in dollars, > 0 (default $(CASH))' \
	  DAYS 'mornings of run, chaos, >= 1 (default $(DAYS))' \
	  SEED 'seed of the synthetic market (default $(SEED))' \
	  CHAOS_SEED 'seed of the faults and kills of chaos; SEED stays the market (default $(CHAOS_SEED))' \
	  OUT 'output folder (default out/<target>: out/run, out/backtest, out/sweep, out/chaos)' \
	  GRID "sweep's parameter grid (default '$(GRID)')" \
	  EVENT 'event file of invoke (default $(EVENT))'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# Alpaca's older official client (alpaca-trade-api) in its own venv: its pins would downgrade
# what alpaca-py needs in .venv. The contract tests run tests/contract/compat_client.py in it.
$(COMPAT_STAMP): requirements-compat.txt
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-compat.txt
	touch $@

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv with run-time and development packages

.PHONY: lint
lint: $(STAMP) ## ruff check of the whole tree
	$(BIN)/ruff check .

.PHONY: test
test: $(STAMP) $(COMPAT_STAMP) $(NODE_STAMP) ## Lint, validate the template (cfn-lint, sam validate), run every test
	$(BIN)/ruff check .
	$(MAKE) --no-print-directory validate
	$(BIN)/python -m pytest -n 2 -q

.PHONY: run
run: $(STAMP) $(NODE_STAMP) ## DAYS mornings through lambda_handler, local paper broker + DynamoDB Local
	$(PY) -m infra.localrun $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) \
	  --out $(call OUT_DIR,run)

.PHONY: backtest
backtest: $(STAMP) ## Backtest DATA (or the synthetic market) from START to END into OUT
	$(PY) -m backtest $(DATA_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,backtest)

.PHONY: sweep
sweep: $(STAMP) ## Parameter grid (GRID='ema_span=5,10 max_positions=3,5') on all cores into OUT
	$(PY) -m backtest.sweep $(DATA_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,sweep) --grid '$(GRID)'

.PHONY: bench
bench: $(STAMP) $(NODE_STAMP) ## Measured figures, each as a ratio to a plain reference in the same process
	$(BIN)/python -m tests.bench

.PHONY: paperbroker
paperbroker: $(STAMP) ## Start the local Alpaca-compatible paper broker in the foreground
	$(PY) -m infra.paperbroker $(DATA_ARG) --start $(or $(START),$(BROKER_START)) --cash $(CASH) \
	  --port 0 --key-id local-key --secret-key local-secret

.PHONY: chaos
chaos: $(STAMP) $(NODE_STAMP) ## DAYS mornings with CHAOS_SEED faults and kills; must equal the clean run
	$(PY) -m infra.chaos $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) \
	  --out $(call OUT_DIR,chaos) --chaos-seed $(CHAOS_SEED)

# ---------------------------------------------------------------- AWS (template.yaml, SAM)
# SAM CLI and cfn-lint live in .venv-sam. No target here needs Docker or AWS credentials except
# deploy and logs (which talk to your account).
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# The Lambda's platform: arm64 (Graviton) and the template's python3.13 runtime. pip fetches
# those wheels whatever this machine runs, so the build needs no Docker and no local 3.13.
LAMBDA_WHEELS := --platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64 \
  --implementation cp --python-version 3.13 --only-binary=:all:
# Shipped with the Lambda runtime, so left out of the artifact (pulled in via aws-xray-sdk).
RUNTIME_PROVIDED := boto3 botocore s3transfer
MAX_UNZIPPED_MB := 250
# A local CPython 3.13, if there is one, precompiles the artifact's bytecode: /var/task is
# read-only, so without it every cold start compiles pandas & co. again (about 1 s more here).
LAMBDA_PYTHON = $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
  "$$p" -c '' 2>/dev/null && { command -v "$$p"; break; }; done)

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-sam.txt
	touch $@

.PHONY: build-TradingFunction
build-TradingFunction: ## (sam build calls it) handler/, strategy/ and arm64 py3.13 wheels into ARTIFACTS_DIR
	test -n "$(ARTIFACTS_DIR)"
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-compile \
	  $(LAMBDA_WHEELS) --target "$(ARTIFACTS_DIR)" \
	  -r <(grep -vE '^[[:space:]]*(#|$$)|^($(subst $(eval) ,|,$(RUNTIME_PROVIDED)))([^a-z0-9_.-]|$$)' requirements.txt)
	cd "$(ARTIFACTS_DIR)" && rm -rf bin $(foreach p,$(RUNTIME_PROVIDED),$(p) $(p)-*.dist-info) \
	  pandas/tests && find numpy -type d -name tests -prune -exec rm -rf {} +
	tar --exclude=__pycache__ --exclude=handler/__main__.py -cf - handler strategy | tar -xf - -C "$(ARTIFACTS_DIR)"
	$(if $(LAMBDA_PYTHON),$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
	  "$(ARTIFACTS_DIR)" >/dev/null && echo "bytecode precompiled with $(LAMBDA_PYTHON)",\
	  @echo "no local python3.13: bytecode is compiled at each cold start instead")
	@size=$$(du -sm "$(ARTIFACTS_DIR)" | cut -f1); \
	  echo "TradingFunction artifact: $${size} MB unzipped (limit $(MAX_UNZIPPED_MB) MB)"; \
	  test "$$size" -lt $(MAX_UNZIPPED_MB)

.PHONY: build
build: $(SAM_STAMP) ## sam build without Docker; prints the artifact's unzipped size
	$(SAM) build --build-in-source
	@echo "unzipped: $$(du -sh .aws-sam/build/TradingFunction | cut -f1) in .aws-sam/build/TradingFunction" \
	  "(limit $(MAX_UNZIPPED_MB) MB)"

.PHONY: validate
validate: $(SAM_STAMP) ## cfn-lint (with the SAM translator) and sam validate --lint on template.yaml
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

.PHONY: invoke
invoke: $(STAMP) $(NODE_STAMP) ## EVENT via sam local invoke if Docker runs, else python -m handler
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
	  echo "Docker available: sam local invoke TradingFunction -e $(EVENT) against the local paper broker and DynamoDB Local"; \
	  $(MAKE) --no-print-directory build && $(BIN)/python -m infra.invoke --sam --event $(EVENT); \
	else \
	  echo "Docker not available: running $(EVENT) through python -m handler against the local paper broker and DynamoDB Local"; \
	  $(BIN)/python -m infra.invoke --event $(EVENT); \
	fi

.PHONY: deploy
deploy: build ## Guided deploy to your AWS account (first time: stack name, region, parameters)
	$(SAM) deploy --guided

.PHONY: logs
logs: $(SAM_STAMP) ## Follow the deployed trading function's logs (sam logs --tail)
	$(SAM) logs --name TradingFunction --tail

.PHONY: clean
clean: ## Remove the virtualenvs, node_modules, build output and OUT (default out)
	rm -rf $(VENV) $(SAM_VENV) $(COMPAT_VENV) node_modules .aws-sam $(or $(OUT),out) .pytest_cache .ruff_cache .hypothesis
