# voicebot: `make serve` installs everything and starts the service; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := python3-venv espeak-ng ffmpeg sox libsox-fmt-all libopencore-amrnb0 libopencore-amrwb0 libvo-amrwbenc0 chromium fonts-wqy-microhei fonts-noto-cjk postgresql
CONFIG_ARG := $(if $(CONFIG),--config $(CONFIG))

.PHONY: install serve test lint bench
install: .install-stamp

.install-stamp: pyproject.toml Makefile
	@# apt only when something is missing, in one run. npm usually comes with Node.js (NodeSource's nodejs
	@# conflicts with Debian's npm package), so it is asked for only when there is no npm.
	installed=$$(dpkg-query -W -f='$${db:Status-Abbrev}\n' $(APT_PACKAGES) 2>/dev/null | grep -c '^ii'); \
	if [ "$$installed" != $(words $(APT_PACKAGES)) ] || ! command -v npm >/dev/null; then \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(APT_PACKAGES) \
	    $$(command -v npm >/dev/null || echo npm); \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(MAKE) kokoro-voices
	touch $@

# Kokoro's voices ship in the npm package kokoro-js; the tarball is verified by sha256 and kept in
# .cache/npm (tts.kokoro_npm_cache), from which voicebot extracts the voices it needs.
KOKORO_JS := kokoro-js-1.2.1.tgz
KOKORO_JS_SHA256 := 1f0d0383ef0349af0bd9440d81dc12abbea3a5392eb645283eda876f537f5860
.PHONY: kokoro-voices
kokoro-voices: .cache/npm/$(KOKORO_JS)
.cache/npm/$(KOKORO_JS):
	mkdir -p .cache/npm
	cd .cache/npm && npm pack -q --silent kokoro-js@1.2.1 >/dev/null
	echo "$(KOKORO_JS_SHA256)  .cache/npm/$(KOKORO_JS)" | sha256sum -c - || { rm -f .cache/npm/$(KOKORO_JS); exit 1; }

serve: install
	-$(BIN)/voicebot models pull --if-missing $(CONFIG_ARG)
	$(BIN)/voicebot serve $(CONFIG_ARG)

lint: install
	$(BIN)/ruff check voicebot tests bench

# The tests run each store/shop/dialogue/pipeline case on SQLite and on PostgreSQL: pg_virtualenv (Debian's
# postgresql-common) gives them a throw-away PostgreSQL 15 cluster and removes it afterwards; -t keeps it in a
# temporary folder even as root, so two test runs on one machine do not fight over /etc/postgresql/15/regress.
test: lint
	pg_virtualenv -t -v 15 $(BIN)/pytest

bench: install
	$(BIN)/python bench/asr.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/webchat.py
	$(BIN)/python bench/market.py
	$(BIN)/python bench/photo_acks.py 2>/dev/null
	$(BIN)/python bench/load.py --rate 100 --duration 10
	$(BIN)/python bench/console.py
	$(BIN)/python bench/voice.py
	$(BIN)/python bench/remote_speech.py
