# SignalBridge: the two commands are `make run` and `make test` (see README.md).
SHELL   := /bin/bash
CONFIG  ?= release
STACK   := Tests/Stack/stack.sh
VENV    := .local/venv
export CONFIG

.PHONY: help deps build run up down status deploy test venv bench clean

help:
	@echo "make run    install what is missing, build, start everything on 127.0.0.1:8080 (Ctrl-C stops)"
	@echo "make test   the same set-up (debug build), then every test; leaves nothing running"
	@echo "make up / make down / make status   the local stack in the background"
	@echo "make deploy FUNCTION=<Name>   build only that function, install it, replace its processes (no request dropped)"
	@echo "make bench  benchmarks on a release build; writes docs/benchmarks.md"

## Debian packages (apt-get update + install, only what is missing).
deps:
	@Tests/Stack/install-deps.sh

build: deps
	swift build -c $(CONFIG)

run: build
	@$(STACK) run

up: build
	@$(STACK) up

down:
	@$(STACK) down

status:
	@$(STACK) status

## One function (a folder of Functions/ other than CLI): build only its product, install the binary atomically
## and replace its running processes without dropping a request; the other functions are untouched. A
## scheduled function is only installed: each cron run execs the installed binary. docs/runbook.md.
deploy:
	@case "$(FUNCTION)" in ""|CLI|*[!A-Za-z0-9_-]*) \
	  echo "usage: make deploy FUNCTION=<Name>   (one of: $$(ls Functions | grep -vx CLI | tr '\n' ' '))" >&2; exit 2 ;; esac; \
	  [ -d "Functions/$(FUNCTION)" ] || { echo "no function Functions/$(FUNCTION)" >&2; exit 2; }
	swift build -c $(CONFIG) --product $(FUNCTION)
	@$(STACK) deploy $(FUNCTION)

## Python virtual environment for the official-client compatibility tests (Tests/ClientCompat).
venv: $(VENV)/.installed
$(VENV)/.installed: Tests/ClientCompat/requirements.txt Tests/API/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r Tests/ClientCompat/requirements.txt -r Tests/API/requirements.txt
	touch $@

## Unit tests, then the stack (debug build, so one compilation serves both), then integration tests.
test: CONFIG = debug
test: export TRADING_ENABLED = true
test: export EXCHANGE_TIMEOUT_SECONDS = 3
test: export ENGINE_STALE_SUBMITTED_SECONDS = 4
test: export ENGINE_UNKNOWN_GRACE_SECONDS = 1
test: export LOCAL_CRON = off
test: deps venv
	swift build --build-tests
	swift test --skip-build --skip IntegrationTests
	cron/test-local-cron.sh
	@$(STACK) down
	@$(STACK) up
	@status=0; \
	  { set -a && . "$${SIGNALBRIDGE_STATE_DIR:-.local}/stack.env" && set +a && \
	    swift test --skip-build --no-parallel --filter IntegrationTests && \
	    $(VENV)/bin/pytest -q -p no:cacheprovider Tests/ClientCompat Tests/API && \
	    Tests/API/fuzz.sh; } || status=$$?; \
	  $(STACK) down; exit $$status

## Benchmarks against a release stack; rewrites docs/benchmarks.md.
bench: CONFIG = release
bench: build venv
	@Tests/Bench/run.sh

clean: down
	rm -rf .build .local
