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

# ---------------------------------------------------------------- knobs
# Which targets take each knob. TO GIVE A TARGET A KNOB, add the target to the knob's line; a
# new knob is one more line here (plus its default below, its flag in the target's recipe and
# its line in `make help`). A knob given to a target not on its line, or a name that is no knob
# (EDN=, start=), stops make with one `error:` line naming the knobs the target takes.
KNOB.DATA       := run backtest sweep chaos paperbroker reconcile
KNOB.SOURCE     := backtest sweep
KNOB.START      := run backtest sweep chaos paperbroker reconcile
KNOB.END        := backtest sweep reconcile
KNOB.CASH       := run backtest sweep chaos paperbroker
KNOB.DAYS       := run chaos
KNOB.SEED       := run backtest sweep chaos paperbroker
KNOB.CHAOS_SEED := chaos
KNOB.OPEN       := run chaos
KNOB.OPEN_SEED  := run chaos
KNOB.OUT        := run backtest sweep chaos reconcile
KNOB.GRID       := sweep
KNOB.ENGINE     := sweep
KNOB.SLIPPAGE_BPS := backtest sweep
KNOB.COMMISSION := backtest sweep
KNOB.WALK       := sweep
KNOB.HOLD       := run
KNOB.MANAGE_EXISTING := run
KNOB.EVENT      := invoke
KNOB.CONFIG_ENV := deploy logs delete aws-env pause resume subscribe
KNOB.ENDPOINT   := pause resume
# Variables that are no knob but may be given: the Python that makes the virtualenvs, the
# artifact's build settings (sam build's ARTIFACTS_DIR; artifact-test's python3.13, folder and
# architecture), and the switch this Makefile's own recursive calls set (their knobs were
# checked by the outer make).
NOT_KNOBS := PYTHON ARTIFACTS_DIR LAMBDA_PYTHON ARTIFACT_TEST_DIR ARTIFACT_ARCH KNOB_CHECK

KNOBS := $(sort $(patsubst KNOB.%,%,$(filter KNOB.%,$(.VARIABLES))))
# Knobs come from the command line only: one exported in the shell (OUT=$HOME in a profile) is
# dropped here, before the defaults below, so it neither reaches a command nor `make clean`.
GOALS := $(or $(MAKECMDGOALS),help)
IGNORED := $(strip $(foreach k,$(KNOBS),$(if $(filter environment%,$(origin $(k))),$(k))))
$(foreach k,$(IGNORED),$(eval undefine $(k)))
IGNORED_HERE := $(strip $(foreach k,$(IGNORED),$(if $(filter $(GOALS),$(KNOB.$(k))),$(k))))
$(if $(IGNORED_HERE),$(shell printf '%s\n' 'note: $(IGNORED_HERE) in your environment ignored: \
  knobs come from the command line (make $(firstword $(GOALS)) $(firstword $(IGNORED_HERE))=...)' >&2))
GIVEN := $(strip $(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
takes = $(strip $(foreach k,$(KNOBS),$(if $(filter $(1),$(KNOB.$(k))),$(k))))
upper = $(shell printf %s '$(1)' | tr a-z A-Z)
# The first (goal, variable) pair where the goal does not take the variable.
REFUSED := $(if $(KNOB_CHECK),,$(wordlist 1,2,$(foreach g,$(GOALS),$(foreach v,$(filter-out \
  $(NOT_KNOBS),$(GIVEN)),$(if $(filter $(g),$(KNOB.$(v))),,$(g) $(v))))))
REFUSED_HINT = $(if $(filter-out $(KNOBS),$(1)),$(if $(filter $(call upper,$(1)),$(KNOBS)), (knobs \
  are upper case: $(call upper,$(1))),))
$(if $(REFUSED),$(error error: $(word 2,$(REFUSED)) is not a knob of make $(word 1,$(REFUSED))$(call \
  REFUSED_HINT,$(word 2,$(REFUSED))), which takes $(or $(call takes,$(word 1,$(REFUSED))),none) \
  (make help lists them)))

# CASH=$500 (quoted past the shell) would reach the command as 00: make reads $5 as a variable.
DOLLAR_KNOB := $(firstword $(foreach k,$(GIVEN),$(if $(findstring $$,$(value $(k))),$(k))))
$(if $(DOLLAR_KNOB),$(error error: $(DOLLAR_KNOB)=$(value $(DOLLAR_KNOB)): leave out the `$$` \
  (make and the shell read $$5 as a variable), e.g. CASH=500))

# The knobs' defaults (`make help` lists them).
DATA       :=
SOURCE     :=
START      :=
END        :=
CASH       := 500
DAYS       := 20
SEED       := 7
CHAOS_SEED := 7
OPEN       := exact
OPEN_SEED  :=
OUT        :=
GRID       := ema_span=5,10,20 max_positions=3,5,10
ENGINE     := local
SLIPPAGE_BPS := 0
COMMISSION := 0
WALK       :=
HOLD       :=
MANAGE_EXISTING := false
EVENT      := events/dry-run.json
CONFIG_ENV := paper
ENDPOINT   :=
# Recursive calls: their knobs were checked above.
SUBMAKE = $(MAKE) --no-print-directory KNOB_CHECK=off
# make paperbroker's first session: the day the events in events/ name, so they trade on it.
BROKER_START := 2026-11-24

DATA_ARG  = $(if $(DATA),--data $(DATA),--synthetic --seed $(SEED))
# SOURCE=alpaca: Alpaca's bars instead (DATA as well is refused by the backtest's and sweep's flags).
SOURCE_ARG = $(if $(SOURCE),--source $(SOURCE) $(if $(DATA),--data $(DATA)),$(DATA_ARG))
START_ARG = $(if $(START),--start $(START),)
END_ARG   = $(if $(END),--end $(END),)
COSTS_ARG = --slippage-bps $(SLIPPAGE_BPS) --commission $(COMMISSION)
# The paper broker's open for run and chaos; the market's SEED seeds it unless OPEN_SEED is given.
OPEN_ARG  = --open $(OPEN) --open-seed $(or $(OPEN_SEED),$(SEED))
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
	@echo "Knobs, on the command line only (make run DAYS=60 CASH=1000; a target refuses a knob it does not take):"
	@printf '  %-15s  %s\n' \
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
	  OPEN "run's, chaos' paper broker open: exact (every open order fills at the bar's open, the" \
	  '' "contract) or realistic (Alpaca's auctions, expiries, partial fills; default $(OPEN))" \
	  OPEN_SEED 'seed of the realistic open (default: SEED)' \
	  OUT 'output folder (default out/<target>: out/run, out/backtest, out/sweep, out/chaos, ...)' \
	  GRID "sweep's parameter grid (default '$(GRID)')" \
	  ENGINE "sweep's engine: local (this machine's cores) or ray (RAY_ADDRESS's cluster, else a" \
	  '' 'local Ray; default $(ENGINE))' \
	  SLIPPAGE_BPS "backtest's and sweep's slippage per side in basis points, >= 0 (default $(SLIPPAGE_BPS))" \
	  COMMISSION "backtest's and sweep's dollars per fill, >= 0 (default $(COMMISSION))" \
	  WALK 'sweep: walk-forward folds, >= 1: rank in sample, trade the best point on the next period' \
	  EVENT 'event file of invoke (default $(EVENT))' \
	  CONFIG_ENV 'samconfig.toml environment, paper or live (default $(CONFIG_ENV)): the stack and' \
	  '' 'region of deploy, logs, delete, aws-env, pause, resume, subscribe' \
	  ENDPOINT "pause, resume: a local stand-in's address (make run prints it) instead of AWS" \
	  HOLD "run: shares the account holds before the first morning, not bought by the function," \
	  '' "e.g. AAPL:3,MSFT:2 (default: none; docs/local-run.md)" \
	  MANAGE_EXISTING "run: true makes every position the strategy's own (default $(MANAGE_EXISTING))"

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
# IMPORT_CONTRACTS: .importlinter's floors (docs/architecture.md), under a second; a broken one
# names the contract and the import chain that breaks it.
IMPORT_CONTRACTS = $(BIN)/lint-imports --no-cache --no-logo
.PHONY: check
check: $(STAMP) ## ruff, the import contracts (.importlinter) and the tests that start no process (about a minute)
	$(BIN)/ruff check .
	$(IMPORT_CONTRACTS)
	$(BIN)/python -m pytest -n 2 -q --no-process tests/unit

# Three workers on two cores: a quarter of the suite's time is spent waiting on a paper broker,
# DynamoDB Local or a handler process, which a third worker fills (measured 2026-12-07 on 2
# cores: 6 min 16 s of pytest with two workers, 5 min 27-29 s with three, the same 1,117 tests).
TEST_WORKERS := 3

.PHONY: test
test: $(STAMP) $(COMPAT_STAMP) $(NODE_STAMP) ## Lint, the import contracts, validate the template (cfn-lint, sam validate), run every test
	$(BIN)/ruff check .
	$(IMPORT_CONTRACTS)
	$(MAKE) --no-print-directory validate
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -q

.PHONY: run
run: $(STAMP) $(NODE_STAMP) ## DAYS mornings through lambda_handler, local paper broker + DynamoDB Local
	$(PY) -m infra.localrun $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) $(OPEN_ARG) \
	  --out $(call OUT_DIR,run) $(if $(HOLD),--hold $(HOLD)) --manage-existing $(MANAGE_EXISTING)

.PHONY: backtest
backtest: $(STAMP) ## Backtest DATA, SOURCE=alpaca or the synthetic market from START to END into OUT
	$(PY) -m backtest $(SOURCE_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,backtest) $(COSTS_ARG)

.PHONY: sweep
sweep: $(STAMP) ## Parameter grid (GRID='ema_span=5,10 max_positions=3,5') on ENGINE into OUT
	$(PY) -m backtest.sweep $(SOURCE_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) \
	  --out $(call OUT_DIR,sweep) --grid '$(GRID)' --engine $(ENGINE) $(COSTS_ARG) \
	  $(if $(WALK),--walk $(WALK))

.PHONY: bench
bench: $(STAMP) $(NODE_STAMP) ## Measured figures against a plain reference in the same process; each target met or by how much not
	$(BIN)/python -m tests.bench

.PHONY: paperbroker
paperbroker: $(STAMP) ## Start the local Alpaca-compatible paper broker in the foreground
	$(PY) -m infra.paperbroker $(DATA_ARG) --start $(or $(START),$(BROKER_START)) --cash $(CASH) \
	  --port 0 --key-id local-key --secret-key local-secret

.PHONY: chaos
chaos: $(STAMP) $(NODE_STAMP) ## DAYS mornings with CHAOS_SEED faults and kills; must equal the clean run
	$(PY) -m infra.chaos $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) $(OPEN_ARG) \
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
# every wheel of requirements.txt, boto3 included, handler/, alpaca_adapter/ and strategy/, bytecode, size.
# The one recipe of build-TradingFunction (sam build, aarch64) and artifact-test (this machine).
# boto3 is bundled, not left to the runtime: AWS fixes no SDK version for python3.13 and updates
# it over time, and the artifact's urllib3, jmespath and dateutil come first on the path anyway
# (requirements.txt says more); bundled, the SDK is the one the tests ran with.
define LAMBDA_ARTIFACT
test -n "$(1)"
$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check --no-compile \
  --no-warn-conflicts $(call LAMBDA_WHEELS,$(2)) --target "$(1)" -r requirements.txt
cd "$(1)" && rm -rf bin pandas/tests && find numpy -type d -name tests -prune -exec rm -rf {} +
tar --exclude=__pycache__ -cf - handler alpaca_adapter strategy | tar -xf - -C "$(1)"
$(if $(LAMBDA_PYTHON),$(LAMBDA_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
  "$(1)" >/dev/null && echo "bytecode precompiled with $(LAMBDA_PYTHON)",\
  @echo "no local python3.13: bytecode is compiled at each cold start instead")
@size=$$(du -sm "$(1)" | cut -f1); \
  echo "TradingFunction artifact: $${size} MB unzipped (limit $(MAX_UNZIPPED_MB) MB)"; \
  test "$$size" -lt $(MAX_UNZIPPED_MB)
endef

.PHONY: build-TradingFunction
build-TradingFunction: ## (sam build calls it) handler/, alpaca_adapter/, strategy/ and arm64 py3.13 wheels into ARTIFACTS_DIR
	$(call LAMBDA_ARTIFACT,$(ARTIFACTS_DIR),aarch64)

.PHONY: build
build: $(SAM_STAMP) ## sam build without Docker; prints the artifact's unzipped size
	@# SAM's closing hint (sam deploy --guided) is cut: make deploy reads samconfig.toml instead.
	set -o pipefail; $(SAM) build --build-in-source | awk '/Commands you can use next/ {cut = 1} !cut'
	@echo "unzipped: $$(du -sh .aws-sam/build/TradingFunction | cut -f1) in .aws-sam/build/TradingFunction" \
	  "(limit $(MAX_UNZIPPED_MB) MB)"
	$(if $(filter build,$(GOALS)),@echo "next: make deploy CONFIG_ENV=paper (samconfig.toml holds what sam deploy --guided would ask)")

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
	$(if $(LAMBDA_PYTHON),@$(SUBMAKE) artifact-morning LAMBDA_PYTHON=$(LAMBDA_PYTHON),\
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
invoke: $(STAMP) $(NODE_STAMP) ## EVENT via sam local invoke if Docker runs, else python -m infra.handler_cli
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
	  echo "Docker available: sam local invoke TradingFunction -e $(EVENT) against the local paper broker and DynamoDB Local"; \
	  $(SUBMAKE) build && $(BIN)/python -m infra.invoke --sam --event $(EVENT); \
	else \
	  echo "Docker not available: running $(EVENT) through python -m infra.handler_cli against the local paper broker and DynamoDB Local"; \
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

# A pause is an emergency: without .venv it runs from .venv-ops, boto3 alone (seconds to make),
# not after the whole development environment's install.
OPS_VENV  := .venv-ops
OPS_STAMP := $(OPS_VENV)/.stamp
OPS_PYTHON = $(if $(wildcard $(STAMP)),$(BIN)/python,$(OPS_VENV)/bin/python)

$(OPS_STAMP): requirements.txt
	test -x $(OPS_VENV)/bin/python || $(PYTHON) -m venv $(OPS_VENV)
	$(OPS_VENV)/bin/python -m pip install -q --disable-pip-version-check $$(grep -E '^boto3==' requirements.txt)
	touch $@

.PHONY: pause
pause: $(if $(wildcard $(STAMP)),,$(OPS_STAMP)) ## Kill switch off: CONFIG_ENV's mornings plan and send nothing (no deploy)
	MAKE_KNOBS=1 $(OPS_PYTHON) -m infra.kill_switch pause --config-env $(CONFIG_ENV) $(ENDPOINT_ARG)

.PHONY: resume
resume: $(if $(wildcard $(STAMP)),,$(OPS_STAMP)) ## Kill switch on: CONFIG_ENV's mornings trade again
	MAKE_KNOBS=1 $(OPS_PYTHON) -m infra.kill_switch resume --config-env $(CONFIG_ENV) $(ENDPOINT_ARG)

# An e-mail confirmation expires after three days unclicked, and no deploy recreates it.
.PHONY: subscribe
subscribe: $(STAMP) ## Mail CONFIG_ENV's unconfirmed alarm and summary subscriptions' confirmation again
	$(PY) -m infra.subscribe --config-env $(CONFIG_ENV)

.PHONY: clean
clean: ## Remove what the project writes here: virtualenvs, node_modules, build output, out/
	rm -rf $(VENV) $(SAM_VENV) $(COMPAT_VENV) $(OPS_VENV) node_modules .aws-sam out .pytest_cache .ruff_cache .hypothesis
