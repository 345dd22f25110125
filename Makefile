# Two commands matter: `make run` (the main job, locally) and `make test` (what CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv run test lint format train convert clean

help:
	@echo "make run      score examples/airline_tweets.csv with the committed model"
	@echo "make test     lint + the whole test suite (what CI runs)"
	@echo "make train    train a model on ../shared/data (SENTIMENT_DATA_DIR), ~5 min"
	@echo "make convert  RUN=artifacts/runs/<id>: TFLite bundle behind the parity gate"

# The virtualenv is (re)built only when a requirements file or pyproject.toml changes.
$(STAMP): requirements.txt converter/requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sentiment score --input examples/airline_tweets.csv --output -

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

format: $(STAMP)
	$(BIN)/ruff check --fix .

train: $(STAMP)
	$(BIN)/python -m converter train

convert: $(STAMP)
	$(BIN)/python -m converter convert $(RUN)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
