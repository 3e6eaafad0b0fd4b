# One command to run the bot, one to run the tests. Both create .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test demo lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)          ## set up and run the bot (needs DISCORD_TOKEN in .env)
	$(BIN)/praxis run

test: $(STAMP)         ## set up and run the whole test suite
	$(BIN)/python -m pytest

demo: $(STAMP)         ## play a simulated term on SimCord; files go to praxis-demo/
	$(BIN)/praxis demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)        ## print benchmark figures (not timed tests)
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.rest
	$(BIN)/python -m bench.startup
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.forget

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
