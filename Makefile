# voicebot: `make serve` installs everything and starts the service; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := python3-venv espeak-ng ffmpeg sox libsox-fmt-all libopencore-amrnb0 libopencore-amrwb0 libvo-amrwbenc0 chromium fonts-wqy-microhei fonts-noto-cjk
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG))

.PHONY: install serve test lint bench
install: .install-stamp

.install-stamp: pyproject.toml Makefile
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

serve: install
	-$(BIN)/voicebot models pull --if-missing $(CONFIG_ARG)
	$(BIN)/voicebot serve $(CONFIG_ARG)

lint: install
	$(BIN)/ruff check voicebot tests bench

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python bench/asr.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/webchat.py
	$(BIN)/python bench/photo_acks.py 2>/dev/null
	$(BIN)/python bench/load.py --rate 100 --duration 10
	$(BIN)/python bench/console.py
