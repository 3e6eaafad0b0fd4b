# One command to run the bot, one to run the tests. Both create .venv on first use.
#
# Python: the first of python3.13, python3.12, python3.11 and python3 on PATH that is 3.11
# or newer (override with `make PYTHON=/path/to/python`). A .venv built by an older or
# vanished Python, or left half-built by a failed install, is rebuilt from scratch.
CANDIDATES := python3.13 python3.12 python3.11 python3
IS_311      = -c 'import sys; sys.exit(sys.version_info < (3, 11))'
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in $(CANDIDATES); do \
	command -v $$p >/dev/null 2>&1 && $$p $(IS_311) >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
endif
VENV := .venv
BIN  := $(VENV)/bin
BASE := $(VENV)/.base
# One stamp per extra, so `make test` after `make run` still installs the dev tools.
RUN_STAMP  := $(VENV)/.installed-run
DEV_STAMP  := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo

.PHONY: install run test demo demo-slack lint format bench clean python FORCE

# A usable .venv has its base stamp and a Python 3.11+ that still runs; anything else is rebuilt.
VENV_OK := $(shell test -f $(BASE) && $(BIN)/python $(IS_311) >/dev/null 2>&1 && echo yes)
ifneq ($(VENV_OK),yes)
$(BASE): FORCE
endif

define check_python
	@if [ -z "$(PYTHON)" ] || ! $(PYTHON) $(IS_311) >/dev/null 2>&1; then \
		echo "Praxis needs Python 3.11 or newer (tried: $(or $(PYTHON),$(CANDIDATES)))." \
			"Install one, or run: make PYTHON=/path/to/python3.11" >&2; \
		exit 1; \
	fi
endef

python:                ## say which Python builds .venv (fails if none is 3.11+)
	$(check_python)
	@echo "$(PYTHON): Python $$($(PYTHON) -c 'import platform; print(platform.python_version())')"

$(BASE):
	$(check_python)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(RUN_STAMP): $(BASE) pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(BASE) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(DEMO_STAMP): $(BASE) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[demo]"
	touch $@

install: $(RUN_STAMP)  ## set up .venv to run the bot, without starting it (deployment)

run: $(RUN_STAMP)      ## set up and run the bot (needs DISCORD_TOKEN in .env)
	$(BIN)/praxis run

test: $(DEV_STAMP)     ## set up and run the whole test suite, on SQLite and then on PostgreSQL
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest --backend postgresql

demo: $(DEMO_STAMP)    ## play a simulated term on SimCord; files go to praxis-demo/
	$(BIN)/praxis demo

demo-slack: $(RUN_STAMP)  ## the same on the simulated Slack (ships with Praxis); praxis-demo-slack/
	$(BIN)/praxis demo --platform slack --out praxis-demo-slack

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(DEV_STAMP)    ## print benchmark figures (not timed tests; PostgreSQL parts need its binaries)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.ingest --rate 5000 --runs 3
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.slack_calls
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.tick --postgresql
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.forget
	$(BIN)/python -m bench.ingest --postgresql --processes 2 --runs 3

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
