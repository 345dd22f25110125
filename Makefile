# Two commands matter: `make run` (the main job, locally) and `make test` (what CI runs).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv run replay dev-down logs score test lint format train convert package infra-check bench clean

help:
	@echo "make run          the whole system locally: emulators, the functions, the bad-buzz pipeline (Ctrl-C stops)"
	@echo "make replay       in another terminal: two days of demo tweets in a minute; the pipeline's alert and its end"
	@echo "make dev-down     stop a local stack left running;  make logs (ARGS=-f to follow): its logs"
	@echo "make test         lint + the whole test suite (what CI runs)"
	@echo "make score        score examples/airline_tweets.csv with the committed model (no emulators)"
	@echo "make train        train a model on ../shared/data (SENTIMENT_DATA_DIR), 12-25 min on 2 cores"
	@echo "make convert      RUN=artifacts/runs/<id>: TFLite bundle behind the parity gate"
	@echo "make package      the functions' source zip for Terraform (build/function-source.zip)"
	@echo "make bench        benchmarks side by side with the replaced system (writes BENCHMARKS.md)"

# The virtualenv is (re)built only when a requirements file or pyproject.toml changes.
$(STAMP): requirements.txt converter/requirements.txt pipelines/requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	@$(BIN)/python -m devstack up

replay: $(STAMP)
	@$(BIN)/python -m devstack replay $(or $(FILE),examples/bad_buzz.jsonl)

dev-down: $(STAMP)
	@$(BIN)/python -m devstack down

logs: $(STAMP)
	@$(BIN)/python -m devstack logs $(ARGS)

score: $(STAMP)
	@$(BIN)/python -m sentiment score --input examples/airline_tweets.csv --output -

lint: $(STAMP)
	$(BIN)/ruff check .

test: lint
	@echo "make test: ruff, then every test (about 15 min on 2 cores; each test is printed as it runs)."
	@echo "  On first use the tests also build .venv-checkov (checkov) and .venv-tflite214 (tflite-runtime 2.14)."
	$(BIN)/python -m pytest -v --durations=15

format: $(STAMP)
	$(BIN)/ruff check --fix .

train: $(STAMP)
	$(BIN)/python -m converter train

convert: $(STAMP)
	$(BIN)/python -m converter convert $(RUN)

package: $(STAMP)
	$(BIN)/python infra/package_function.py

infra-check: $(STAMP)
	infra/checks/setup_checkov.sh --run
	$(BIN)/python -m pytest tests/test_infra_terraform.py tests/test_infra_cloudbuild.py tests/test_infra_package.py

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .venv-checkov .venv-tflite214 .pytest_cache .ruff_cache build .stack
