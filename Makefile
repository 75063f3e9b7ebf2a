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

# Knobs (override on the command line: make run DAYS=60 CASH=1000)
DATA  ?=
START ?=
END   ?=
CASH  ?= 500
DAYS  ?= 20
SEED  ?= 7
OUT   ?= out
GRID  ?= ema_span=5,10,20 max_positions=3,5,10
EVENT ?= events/dry-run.json

DATA_ARG  = $(if $(DATA),--data $(DATA),--synthetic --seed $(SEED))
START_ARG = $(if $(START),--start $(START),)
END_ARG   = $(if $(END),--end $(END),)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
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
test: $(STAMP) $(NODE_STAMP) ## Lint and run the whole test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -q

.PHONY: run
run: $(STAMP) $(NODE_STAMP) ## DAYS mornings through lambda_handler against the local paper broker + DynamoDB Local
	$(BIN)/python -m infra.localrun $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) --out $(OUT)

.PHONY: backtest
backtest: $(STAMP) ## Backtest DATA (or the synthetic market) from START to END into OUT
	$(BIN)/python -m backtest $(DATA_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) --out $(OUT)

.PHONY: sweep
sweep: $(STAMP) ## Parameter grid (GRID='ema_span=5,10 max_positions=3,5') on all cores into OUT
	$(BIN)/python -m backtest.sweep $(DATA_ARG) $(START_ARG) $(END_ARG) --cash $(CASH) --out $(OUT) --grid '$(GRID)'

.PHONY: bench
bench: $(STAMP) $(NODE_STAMP) ## Measured figures, each as a ratio to a plain reference in the same process
	$(BIN)/python -m tests.bench

.PHONY: paperbroker
paperbroker: $(STAMP) ## Start the local Alpaca-compatible paper broker in the foreground
	$(BIN)/python -m infra.paperbroker $(DATA_ARG) --start $(or $(START),2024-01-02) --port 0 --key-id local-key --secret-key local-secret

.PHONY: chaos
chaos: $(STAMP) $(NODE_STAMP) ## DAYS mornings with seeded faults and kills; must equal the clean run
	$(BIN)/python -m infra.chaos $(DATA_ARG) $(START_ARG) --days $(DAYS) --cash $(CASH) --out $(OUT) --chaos-seed $(SEED)

.PHONY: clean
clean: ## Remove the virtualenvs, node_modules, build output and OUT
	rm -rf $(VENV) $(SAM_VENV) node_modules .aws-sam $(OUT) .pytest_cache .ruff_cache .hypothesis
