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
SOURCE     ?=
START      ?=
END        ?=
CASH       ?= 500
DAYS       ?= 20
SEED       ?= 7
CHAOS_SEED ?= 7
OUT        ?=
GRID       ?= ema_span=5,10,20 max_positions=3,5,10
ENGINE     ?= local
EVENT      ?= events/dry-run.json
CONFIG_ENV ?= paper
ENDPOINT   ?=
# make paperbroker's first session: the day the events in events/ name, so they trade on it.
BROKER_START := 2026-11-24

DATA_ARG  = $(if $(DATA),--data $(DATA),--synthetic --seed $(SEED))
# SOURCE=alpaca: Alpaca's bars instead (DATA as well is refused by the backtest's and sweep's flags).
SOURCE_ARG = $(if $(SOURCE),--source $(SOURCE) $(if $(DATA),--data $(DATA)),$(DATA_ARG))
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
	  SOURCE "backtest's and sweep's other data source: alpaca (Alpaca's daily bars; keys ALPACA_KEY_ID," \
	  '' 'ALPACA_SECRET_KEY; cached in .cache/bars; docs/backtest.md)' \
	  START 'first session (default: run, chaos a year into the data; backtest, sweep the first;' \
	  '' 'paperbroker $(BROKER_START), the day of events/*.json; SOURCE=alpaca 365 days before END)' \
	  END 'last session of backtest, sweep (default: the last of the data; SOURCE=alpaca yesterday)' \
	  '' 'reconcile needs both START and END' \
	  CASH 'opening cash in dollars, > 0 (default $(CASH))' \
	  DAYS 'mornings of run, chaos, >= 1 (default $(DAYS))' \
	  SEED 'seed of the synthetic market (default $(SEED))' \
	  CHAOS_SEED 'seed of the faults and kills of chaos; SEED stays the market (default $(CHAOS_SEED))' \
	  OUT 'output folder (default out/<target>: out/run, out/backtest, out/sweep, out/chaos, ...)' \
	  GRID "sweep's parameter grid (default '$(GRID)')" \
	  ENGINE "sweep's engine: local (this machine's cores) or ray (RAY_ADDRESS's cluster, else a" \
	  '' 'local Ray; default $(ENGINE))' \
	  EVENT 'event file of invoke (default $(EVENT))' \
	  CONFIG_ENV 'samconfig.toml environment, paper or live (default $(CONFIG_ENV)): the stack and' \
	  '' 'region of deploy, logs, delete, aws-env, pause, resume' \
	  ENDPOINT "pause, resume: a local stand-in's address (make run prints it) instead of AWS"

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

# The fast loop: the tests marked `process` (a server, a subprocess, a JVM: tests/conftest.py
# marks them, and fails an unmarked one that starts any) are left to make test; every test outside
# tests/unit is one by definition, so only tests/unit is collected.
.PHONY: check
check: $(STAMP) ## ruff plus the tests that start no process, server or JVM (about a minute)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q --no-process tests/unit

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
backtest: $(STAMP) ## Backtest DATA, SOURCE=alpaca or the synthetic market from START to END into OUT
	$(PY) -m backtest $(SOURCE_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,backtest)

.PHONY: sweep
sweep: $(STAMP) ## Parameter grid (GRID='ema_span=5,10 max_positions=3,5') on ENGINE into OUT
	$(PY) -m backtest.sweep $(SOURCE_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,sweep) --grid '$(GRID)' --engine $(ENGINE)

.PHONY: bench
bench: $(STAMP) $(NODE_STAMP) ## Measured figures against a plain reference in the same process; each target met or by how much not
	$(BIN)/python -m tests.bench

.PHONY: paperbroker
paperbroker: $(STAMP) ## Start the local Alpaca-compatible paper broker in the foreground
	$(PY) -m infra.paperbroker $(DATA_ARG) --start $(or $(START),$(BROKER_START)) --cash $(CASH) \
	  --port 0 --key-id local-key --secret-key local-secret

.PHONY: chaos
chaos: $(STAMP) $(NODE_STAMP) ## DAYS mornings with CHAOS_SEED faults and kills; must equal the clean run
	$(PY) -m infra.chaos $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) \
	  --out $(call OUT_DIR,chaos) --chaos-seed $(CHAOS_SEED)

.PHONY: reconcile
reconcile: $(STAMP) ## ALPACA_KEY_ID's account against its backtest from START to END (bars: DATA or Alpaca's) into OUT
	$(PY) -m backtest.reconcile --start $(START) --end $(END) $(if $(DATA),--data $(DATA),) \
	  --out $(call OUT_DIR,reconcile)

# ---------------------------------------------------------------- AWS (template.yaml, SAM)
# SAM CLI and cfn-lint live in .venv-sam. No target here needs Docker or AWS credentials except
# deploy, logs, delete, pause and resume (which talk to your account).
SAM := SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam
# CONFIG_ENV's stack name and region from samconfig.toml (the one place they are written, which
# sam deploy/logs/delete --config-env read too), by infra/samconfig.py as make pause reads them;
# its answer is "<stack> <region>", anything else (its one `error:` line) stops make with it.
SAMCONFIG = $(call SAMCONFIG_OK,$(shell $(PYTHON) -m infra.samconfig --config-env $(CONFIG_ENV) 2>&1))
SAMCONFIG_OK = $(if $(filter 2,$(words $(1))),$(1),$(error $(1)))
STACK  = $(word 1,$(SAMCONFIG))
REGION = $(word 2,$(SAMCONFIG))
# The Lambda's platform: arm64 (Graviton, aarch64 wheels) and the template's python3.13 runtime.
# pip fetches the wheels of $(call LAMBDA_WHEELS,ARCH) whatever this machine runs, so the build
# needs no Docker and no local 3.13; make artifact-test builds the same for this machine's ARCH.
LAMBDA_PYTHON_VERSION := 3.13
LAMBDA_WHEELS = --platform manylinux2014_$(1) --platform manylinux_2_28_$(1) \
  --implementation cp --python-version $(LAMBDA_PYTHON_VERSION) --only-binary=:all:
MAX_UNZIPPED_MB := 250
# A local CPython 3.13, if there is one, precompiles the artifact's bytecode: /var/task is
# read-only, so without it every cold start compiles pandas & co. again (about 1 s more here).
LAMBDA_PYTHON = $(shell for p in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3.13; do \
  "$$p" -c '' 2>/dev/null && { command -v "$$p"; break; }; done)

$(SAM_STAMP): requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-sam.txt
	touch $@

# $(call LAMBDA_ARTIFACT,DIR,ARCH): the function's artifact for ARCH (aarch64, x86_64) in DIR:
# every wheel of requirements.txt, boto3 included, handler/ and strategy/, bytecode, size.
# The one recipe of build-TradingFunction (sam build, aarch64) and artifact-test (this machine).
# boto3 is bundled, not left to the runtime: AWS fixes no SDK version for python3.13 and updates
# it over time, and the artifact's urllib3, jmespath and dateutil come first on the path anyway
# (requirements.txt says more); bundled, the SDK is the one the tests ran with.
define LAMBDA_ARTIFACT
test -n "$(1)"
$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-compile \
  --no-warn-conflicts $(call LAMBDA_WHEELS,$(2)) --target "$(1)" -r requirements.txt
cd "$(1)" && rm -rf bin pandas/tests && find numpy -type d -name tests -prune -exec rm -rf {} +
tar --exclude=__pycache__ --exclude=handler/__main__.py -cf - handler strategy | tar -xf - -C "$(1)"
$(if $(LAMBDA_PYTHON),$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
  "$(1)" >/dev/null && echo "bytecode precompiled with $(LAMBDA_PYTHON)",\
  @echo "no local python3.13: bytecode is compiled at each cold start instead")
@size=$$(du -sm "$(1)" | cut -f1); \
  echo "TradingFunction artifact: $${size} MB unzipped (limit $(MAX_UNZIPPED_MB) MB)"; \
  test "$$size" -lt $(MAX_UNZIPPED_MB)
endef

.PHONY: build-TradingFunction
build-TradingFunction: ## (sam build calls it) handler/, strategy/ and arm64 py3.13 wheels into ARTIFACTS_DIR
	$(call LAMBDA_ARTIFACT,$(ARTIFACTS_DIR),aarch64)

.PHONY: build
build: $(SAM_STAMP) ## sam build without Docker; prints the artifact's unzipped size
	$(SAM) build --build-in-source
	@echo "unzipped: $$(du -sh .aws-sam/build/TradingFunction | cut -f1) in .aws-sam/build/TradingFunction" \
	  "(limit $(MAX_UNZIPPED_MB) MB)"

# make artifact-test: the recipe above for this machine's ARCH into ARTIFACT_TEST_DIR/task, the
# older boto3 the python3.13 runtime may ship (requirements-lambda-runtime.txt) into .../runtime,
# then one morning under python3.13 with those two directories alone on its path, which must take
# boto3 and botocore from the artifact (infra/artifact_test.py).
# Without a python3.13 it says so and succeeds: there is nothing here to run the artifact with;
# under CI=true (CI's own variable) that is a failure instead, as a missing test prerequisite is.
ARTIFACT_TEST_DIR := .aws-sam/artifact-test
ARTIFACT_ARCH = $(shell uname -m)
IN_CI = $(filter true True TRUE 1,$(CI))
NO_LAMBDA_PYTHON = no python3.13 here (on PATH or pyenv's); pyenv install 3.13 to run it
NO_ARTIFACT_TEST = $(if $(IN_CI),echo "error: artifact-test under CI=true: $(NO_LAMBDA_PYTHON)" >&2; \
  exit 1,echo "artifact-test skipped: $(NO_LAMBDA_PYTHON)")

.PHONY: artifact-test
artifact-test: ## Build the artifact for this machine and trade one morning from it under python3.13 alone
	$(if $(LAMBDA_PYTHON),@$(MAKE) --no-print-directory artifact-morning LAMBDA_PYTHON=$(LAMBDA_PYTHON),\
	  @$(NO_ARTIFACT_TEST))

.PHONY: artifact-morning
artifact-morning: $(STAMP) $(NODE_STAMP) $(SAM_STAMP)
	rm -rf $(ARTIFACT_TEST_DIR)
	$(call LAMBDA_ARTIFACT,$(ARTIFACT_TEST_DIR)/task,$(ARTIFACT_ARCH))
	$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-compile \
	  --no-warn-conflicts $(call LAMBDA_WHEELS,$(ARTIFACT_ARCH)) --target $(ARTIFACT_TEST_DIR)/runtime \
	  -r requirements-lambda-runtime.txt
	$(BIN)/python -m infra.artifact_test --python $(LAMBDA_PYTHON) --dir $(ARTIFACT_TEST_DIR)

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

# make deploy's first step: CONFIG_ENV's stack name must fit the template's names (at most 54
# characters, infra/samconfig.py MAX_STACK_NAME), refused in one line before anything is built.
DEPLOY_SAMCONFIG = $(call SAMCONFIG_OK,$(shell $(PYTHON) -m infra.samconfig --config-env $(CONFIG_ENV) --deploy 2>&1))

.PHONY: deploy-check
deploy-check:
	@: $(DEPLOY_SAMCONFIG)

.PHONY: deploy
deploy: deploy-check build ## Deploy CONFIG_ENV's stack (sam deploy --config-env; review the change set)
	@echo "stack $(STACK) in $(REGION) (samconfig.toml [$(CONFIG_ENV)])"
	$(SAM) deploy --config-env $(CONFIG_ENV)

.PHONY: logs
logs: $(SAM_STAMP) ## Follow CONFIG_ENV's trading function logs (sam logs --tail)
	@echo "stack $(STACK) in $(REGION) (samconfig.toml [$(CONFIG_ENV)])"
	$(SAM) logs --config-env $(CONFIG_ENV) --name TradingFunction --tail

.PHONY: delete
delete: $(SAM_STAMP) ## Delete CONFIG_ENV's stack; the journal, logs and dead-letter queue stay
	@echo "stack $(STACK) in $(REGION) (samconfig.toml [$(CONFIG_ENV)])"
	$(SAM) delete --config-env $(CONFIG_ENV)

.PHONY: aws-env
aws-env: ## Print CONFIG_ENV's region and stack for the aws CLI: eval "$(make -s aws-env)"
	@echo "export AWS_REGION=$(REGION) AWS_DEFAULT_REGION=$(REGION) STACK=$(STACK)"

# The kill switch: the stack's SSM parameter, read by every morning (infra/kill_switch.py).
ENDPOINT_ARG = $(if $(ENDPOINT),--endpoint-url $(ENDPOINT),)

.PHONY: pause
pause: $(STAMP) ## Kill switch off: CONFIG_ENV's mornings plan and send nothing (no deploy)
	$(PY) -m infra.kill_switch pause --config-env $(CONFIG_ENV) $(ENDPOINT_ARG)

.PHONY: resume
resume: $(STAMP) ## Kill switch on: CONFIG_ENV's mornings trade again
	$(PY) -m infra.kill_switch resume --config-env $(CONFIG_ENV) $(ENDPOINT_ARG)

# An e-mail confirmation expires after three days unclicked, and no deploy recreates it.
.PHONY: subscribe
subscribe: $(STAMP) ## Mail CONFIG_ENV's unconfirmed alarm and summary subscriptions' confirmation again
	$(PY) -m infra.subscribe --config-env $(CONFIG_ENV)

.PHONY: clean
clean: ## Remove the virtualenvs, node_modules, build output and OUT (default out)
	rm -rf $(VENV) $(SAM_VENV) $(COMPAT_VENV) node_modules .aws-sam $(or $(OUT),out) .pytest_cache .ruff_cache .hypothesis
