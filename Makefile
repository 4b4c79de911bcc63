# Gavel's build, test and lint entry points. `make test` is what CI runs.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build dist image test test-deps lint synapse bench demo fuzz docs FORCE

# Gavel's end-to-end encryption uses mautrix's pure-Go Olm (goolm): without
# this tag mautrix wants libolm through cgo, and Gavel builds without
# encryption (internal/e2ee says so at start-up). Every go command below
# gets the tag; lint and test also check the build without it.
export GOFLAGS := -tags=goolm $(GOFLAGS)

# A build of a release tag is that release (v0.2.0); any other commit is
# the newest release in CHANGELOG.md plus the commit (main.go's Version:
# 0.2.0-dev+455a6d7), as gavel -version and !status print it.
VERSION ?= $(shell git describe --tags --exact-match --match 'v[0-9]*' --dirty 2>/dev/null)
REVISION ?= $(shell git describe --always --dirty --exclude='*' 2>/dev/null)
# The commit's time rather than the build's, so that building a commit
# again gives the same binary and image: its day (UTC) is stamped in for
# gavel -version and gavel_build_info, and the image's files carry it.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null)
BUILT ?= $(if $(SOURCE_DATE_EPOCH),$(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%d))
LDFLAGS = -X main.version=$(VERSION) -X main.revision=$(REVISION) -X main.built=$(BUILT)
DEMO_PORT ?= 8008

all: lint test

# bin/gavel, statically linked (pure-Go SQLite and Olm, no cgo), built as
# the release binaries are (see dist), and as the tests build it
# (synapsetest.BuildBinary), so that the three share Go's build cache.
build:
	CGO_ENABLED=0 $(GO) build -tags goolm -trimpath -ldflags "$(LDFLAGS)" -o bin/gavel .

# Release builds: a static binary for each of DIST_ARCHS in DIST
# (dist/gavel-linux-amd64, …) and their SHA256SUMS. -trimpath leaves out
# where the source and Go were, so that the same commit and Go release
# give the same bytes on any machine.
DIST ?= dist
DIST_ARCHS ?= amd64 arm64
dist: $(DIST_ARCHS:%=$(DIST)/gavel-linux-%)
	cd $(DIST) && sha256sum $(DIST_ARCHS:%=gavel-linux-%) > SHA256SUMS

# Always handed to go build, which leaves a binary that is up to date alone.
$(DIST)/gavel-linux-%: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=$* $(GO) build -tags goolm -trimpath -ldflags "$(LDFLAGS)" -o $@ .
FORCE:

# The container image (docs/container.md), with podman and no registry:
# contrib/container/Containerfile is FROM scratch, so its build context is
# made here of the release binary for this machine (built into DIST as
# dist builds it, or that one when it is up to date), the CA bundle and
# Go's zoneinfo. The docker format keeps the HEALTHCHECK, which OCI's
# drops. Files and the image get the commit's time: the same inputs give
# the same image id, and a rebuild reuses every layer that did not change.
IMAGE ?= localhost/gavel:latest
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
image: $(DIST)/gavel-linux-$(IMAGE_ARCH)
	@ctx=$$(mktemp -d); trap 'rm -rf "$$ctx"' EXIT; \
	cp $< "$$ctx/gavel"; cp $(CA_BUNDLE) "$$ctx/ca-certificates.crt"; \
	cp "$$($(GO) env GOROOT)/lib/time/zoneinfo.zip" "$$ctx/"; mkdir "$$ctx/data" "$$ctx/tmp"; \
	set -x; podman build --format docker --arch $(IMAGE_ARCH) $(if $(SOURCE_DATE_EPOCH),--timestamp $(SOURCE_DATE_EPOCH)) \
		$(if $(VERSION),--label org.opencontainers.image.version=$(VERSION)) \
		--label org.opencontainers.image.revision=$(REVISION) \
		-f contrib/container/Containerfile -t $(IMAGE) "$$ctx"

# Installs Synapse into its cache chroot once per machine (about a minute the
# first time, a no-op after). Without root, and outside CI, the integration
# tests are skipped instead.
synapse:
	@if [ -z "$$GAVEL_TEST_HOMESERVER" ]; then \
		scripts/synapse.sh install || { [ -z "$$CI" ] && \
			echo "make: no Synapse; integration tests will be skipped (CI=1 makes that a failure)" >&2; }; \
	fi

# What the tests need beyond Go (a C compiler for the race detector,
# debootstrap for Synapse's chroot, PostgreSQL, nginx, systemd-analyze, podman):
# installed with apt-get when missing and run as root; otherwise named, and
# the tests that need them are skipped (a failure with CI set).
test-deps:
	@scripts/test-deps.sh

# Unit and integration tests, with the race detector. -v shows each test's
# result (skips included) and the Synapse version the integration tests ran
# against; RUN/PAUSE/CONT lines and passing subtests are filtered out. At the
# end, pass or fail, the five slowest packages.
# Packages run TEST_P at a time: each integration test package has its own
# Synapse and waits on it part of the time, so more than the cores pays off,
# but one busies 0.4-0.75 of a core (race detector and Synapse), so four
# already keep two cores busy. A package binary that runs longer than
# TEST_TIMEOUT fails with every goroutine's stack instead of hanging CI.
TEST_P ?= 4
TEST_TIMEOUT ?= 20m
test: test-deps synapse
	@out=$$(mktemp); trap 'rm -f "$$out"' EXIT; status=0; \
	echo "$(GO) test -race -count=1 -p $(TEST_P) -timeout $(TEST_TIMEOUT) -v ./..."; \
	$(GO) test -race -count=1 -p $(TEST_P) -timeout $(TEST_TIMEOUT) -v ./... | tee "$$out" | \
		grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|\s+--- PASS)' || status=$$?; \
	echo "The five slowest packages:"; \
	awk '/^(ok|FAIL)[ \t]+[^ \t]+[ \t]+[0-9.]+s/ { t = $$3; sub(/s$$/, "", t); printf "%8.1fs  %s\n", t, $$2 }' "$$out" | \
		sort -rn | head -5; \
	exit $$status
	GOFLAGS= $(GO) test -count=1 ./internal/e2ee
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10s

# Fuzz targets, package:target. `make test` runs each for 10 s; `make fuzz`
# for FUZZTIME each. Failing inputs are written to the package's
# testdata/fuzz/<target>/, where they become regression tests.
FUZZ_TARGETS := ./commands:FuzzParse ./internal/mxid:FuzzValidators ./notice:FuzzReportNotice ./notice:FuzzCardWithCase ./notice:FuzzCardWithDossier ./policy:FuzzRule
FUZZTIME ?= 10m
fuzz:
	@for target in $(FUZZ_TARGETS); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "fuzz: $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg 2>&1 | grep -vE '^fuzz: elapsed: [0-9]+s, gathering|^warning: starting with empty corpus' || exit 1; \
	done

# Benchmarks: first the Go micro-benchmarks (rendering a notice, the
# database side of a poll, a card against 50,000 policy rules, !stats over
# 100,000 cases, reading a desk's space of 1,000 rooms from a real
# Synapse: a few minutes, most of them creating the rooms), then
# cmd/gavel-bench, which runs bin/gavel against a real Synapse on SQLite,
# then on PostgreSQL behind nginx, and prints the table in
# docs/performance.md (about 50 minutes, 10 of them idle;
# BENCH_FLAGS=-idle=1m shortens that, -backends sqlite leaves out
# PostgreSQL).
bench: build synapse
	$(GO) test -run '^$$' -bench . -benchmem ./notice/ ./store/ ./policy/ ./stats/
	$(GO) test -run '^$$' -bench RefreshSpace1000 -benchtime 1x -benchmem -timeout 30m ./desk/
	$(GO) run ./cmd/gavel-bench -gavel bin/gavel $(BENCH_FLAGS)

# A local Synapse with a bot, a moderator, a management room and a reported
# message, and Gavel running against it; see the README.
demo: build synapse
	$(GO) run ./cmd/gavel-demo -gavel bin/gavel -port $(DEMO_PORT)

# docs/commands.md (and the commands at a glance in README.md) from the
# command declarations; a test in cmd/gavel-docs fails when they are stale.
docs:
	$(GO) run ./cmd/gavel-docs

# The packages with files for one side of the goolm tag alone; a test in
# the root package keeps this list complete.
NOTAG_PKGS := ./internal/e2ee/ ./store/ ./bot/

lint:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then \
		echo "gofmt would change these files (run gofmt -w .):"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	GOFLAGS= $(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	@# Without the tag only these packages' files differ (//go:build goolm).
	GOFLAGS= $(GO) run $(STATICCHECK) $(NOTAG_PKGS)
