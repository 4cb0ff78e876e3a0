# Set-up and the two main commands. Each target creates (or reuses) the virtual environment.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RUN ?= runs/default
SAMPLE ?= Russian jets bombed a market in Ariha on Tuesday, killing 12 civilians, the monitor said.
# Nothing here needs the Hugging Face hub; offline mode turns a hub lookup into an immediate, clear error.
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: train test install bench clean-run

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch; an unpinned torch would pull several GB of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[train,serve,ray,dev,parquet]"
	touch $(STAMP)

install: $(STAMP)

## The main job: base encoder -> train on the bundled corpus -> evaluate -> export ONNX -> tag a sample.
train: $(STAMP)
	$(BIN)/eventlens base-model
	$(BIN)/eventlens train --config configs/default.yaml
	$(BIN)/eventlens export $(RUN) -o $(RUN)/onnx
	$(BIN)/eventlens model-card $(RUN) --model-dir $(RUN)/onnx -o model_card.md
	$(BIN)/eventlens tag -m $(RUN)/onnx "$(SAMPLE)"

## The tests (tiny random models; the real encoder only in tests marked slow).
test: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_runtime.py --model $(RUN)/onnx --run $(RUN)
