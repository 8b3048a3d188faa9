# CivicStack: `make demo` to try it, `make test` to prove it. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_WORKERS ?= auto
DEMO_PEOPLE ?= 2000
# A host name, not 127.0.0.1: browsers refuse passkeys (WebAuthn) on an IP address. It is the
# same server (bound to 127.0.0.1), and the OpenID Connect issuer the demo bank trusts.
DEMO_URL ?= http://localhost:8000

.DEFAULT_GOAL := help
.PHONY: help demo test lint bench bench-oidc bench-wallet bench-dossiers bench-faces bench-load messages system-deps clean

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(INSTALLED) ## Migrate an SQLite database, seed ~2,000 people, serve http://127.0.0.1:8000
	$(BIN)/civicstack db upgrade
	$(BIN)/civicstack demo seed --people $(DEMO_PEOPLE) --seed 1
	CIVICSTACK_PUBLIC_URL=$(DEMO_URL) $(BIN)/civicstack oidc demo-bank
	CIVICSTACK_PUBLIC_URL=$(DEMO_URL) $(BIN)/civicstack wallet demo
	CIVICSTACK_PUBLIC_URL=$(DEMO_URL) $(BIN)/civicstack services seed
	$(BIN)/civicstack services demo
	$(BIN)/civicstack exchange demo
	$(BIN)/civicstack biometrics demo
	$(BIN)/civicstack support demo
	CIVICSTACK_PUBLIC_URL=$(DEMO_URL) $(BIN)/civicstack learning demo
	$(BIN)/civicstack travel demo --passengers-csv .data/demo-faces.csv
	$(BIN)/civicstack monitoring demo
	@echo "Citizen portal: $(DEMO_URL)/"
	@echo "Citizens to sign in as (level 1, and level 2 with their authenticator's secret): .data/demo-citizens.txt"
	@echo "Officials' console: $(DEMO_URL)/console/login (officials and passwords in .data/demo-officials.txt; API key in .data/demo-operator-key.txt)"
	@echo "Single sign-on: $(DEMO_URL)/demo/bank/ (a relying party signing in with eID)"
	@echo "Public services statistics: $(DEMO_URL)/services/statistics"
	@echo "Data-sharing readiness ranking: $(DEMO_URL)/exchange/ranking"
	@echo "Digital Education for All: $(DEMO_URL)/learning (a Hà Nội pupil aged 14-18 with an eID account; docs/learning.md), console: programme.hanoi"
	@echo "Airport kiosk: $(DEMO_URL)/kiosk (device credentials in .data/travel-demo-credentials.json; faces to try in .data/demo-faces.csv)"
	CIVICSTACK_PUBLIC_URL=$(DEMO_URL) CIVICSTACK_DEMO_RELYING_PARTY=1 \
		$(BIN)/civicstack serve --host 127.0.0.1 --port 8000

system-deps: ## Install Debian postgresql, pg_auto_failover, chromium and Go's sumdb sources when missing (tests need them)
	@if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing postgresql"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; fi
	@if ! command -v pg_autoctl >/dev/null; then \
		echo "installing pg_auto_failover"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql-15-auto-failover >/dev/null; fi
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing chromium"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; fi
	@# The audit log's proofs are checked with Go's reference code (tests/support/tlogverify).
	@if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/golang.org/x/mod/sumdb ]; then \
		echo "installing golang-go and golang-golang-x-mod-dev"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq golang-go \
		golang-golang-x-mod-dev >/dev/null; fi

test: $(INSTALLED) system-deps ## Run the whole suite on SQLite and a throwaway PostgreSQL
	$(BIN)/pytest -n $(PYTEST_WORKERS)

lint: $(INSTALLED) ## ruff and mypy --strict
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy --strict src

bench: $(INSTALLED) system-deps ## Import benchmark: 1,000,000 persons into PostgreSQL and SQLite
	$(BIN)/python benchmarks/registry_import.py --people 1000000

bench-oidc: $(INSTALLED) ## Token grants and sign-ins per core, side by side with django-oauth-toolkit
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/oidc.py --grants 2000 --logins 30

bench-wallet: $(INSTALLED) ## Wallet presentations verified per core vs raw ES256; issuance; QR sizes
	$(BIN)/python benchmarks/wallet.py --presentations 3000 --issuances 300

bench-dossiers: $(INSTALLED) system-deps ## Dossiers through the workflow per second; statistics over 1,000,000 dossiers
	$(BIN)/python benchmarks/dossiers.py --dossiers 1000000 --workflow 300

bench-faces: $(INSTALLED) ## Face match accuracy, time per image, FAISS 1:N at 1M, gate latency, liveness
	$(BIN)/python benchmarks/faces.py

bench-load: $(INSTALLED) system-deps ## Concurrent users over HTTP against serve --workers 2 + worker on PostgreSQL (fsync on)
	$(BIN)/python benchmarks/load.py --users 16 --duration 45

messages: $(INSTALLED) ## Re-extract UI strings and merge them into the vi/en catalogues
	$(BIN)/pybabel extract -F babel.cfg --no-location -k Invalid:2 -k FieldError:2 -k Forbidden \
		-k Conflict -k NotFound -k Unauthorized -k PresentationRefused -o .data/messages.pot .  # kit/i18n.py ERROR_KEYWORDS
	$(BIN)/pybabel update -i .data/messages.pot -d src/civicstack/locale --no-fuzzy-matching

clean: ## Remove the demo data directory (keeps the venv)
	rm -rf .data
