# Gavel's build, test and lint entry points. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build test lint synapse bench demo

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
DEMO_PORT ?= 8008

all: lint test

# bin/gavel, statically linked (pure-Go SQLite, no cgo).
build:
	CGO_ENABLED=0 $(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/gavel .

# Installs Synapse into its cache chroot once per machine (about a minute the
# first time, a no-op after). Without root, and outside CI, the integration
# tests are skipped instead.
synapse:
	@if [ -z "$$GAVEL_TEST_HOMESERVER" ]; then \
		scripts/synapse.sh install || { [ -z "$$CI" ] && \
			echo "make: no Synapse; integration tests will be skipped (CI=1 makes that a failure)" >&2; }; \
	fi

# Unit and integration tests, with the race detector. -v shows each test's
# result (skips included) and the Synapse version the integration tests ran
# against; RUN/PAUSE/CONT lines and passing subtests are filtered out.
test: synapse
	$(GO) test -race -count=1 -v ./... | grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s+--- PASS)'

# Benchmarks: rendering a notice, and the database side of a poll.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./bot/ ./store/

# A local Synapse with a bot, a moderator, a management room and a reported
# message, and Gavel running against it; see the README.
demo: build synapse
	$(GO) run ./internal/demo -gavel bin/gavel -port $(DEMO_PORT)

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt would change these files (run gofmt -w .):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
