# referral-sync: the README's two commands are `make demo` and `make test`. Both install what is missing.
SWIFT ?= swift
SWIFT_FORMAT_PATHS = Package.swift Sources Tests

.PHONY: all deps test-deps build release test lint format embed-sql demo bench bench-sync clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Regenerates the SQL embedded in the binary from sql/ (a test fails when it is stale).
embed-sql:
	scripts/embed-sql.sh

lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_FORMAT_PATHS) 2>&1 | grep -v EmbeddedSQL.swift | (! grep .)

format:
	$(SWIFT) format --in-place --recursive $(SWIFT_FORMAT_PATHS)

# What only the tests need: promtool (checks the metrics file) and PyYAML (reads deploy/kubernetes).
TEST_PACKAGES = prometheus python3-yaml

test-deps:
	@scripts/install-deps.sh $(TEST_PACKAGES)

# Lint, then the whole suite against a throwaway PostgreSQL cluster and the loopback Attentive simulator.
test: deps test-deps lint
	$(SWIFT) build --build-tests
	scripts/with-postgres.sh $(SWIFT) test --skip-build

# The main job on an embedded default: throwaway PostgreSQL, sample data, the simulator; run twice.
demo: deps
	$(SWIFT) build --product referral-sync
	$(SWIFT) build --product attentive-simulator
	scripts/with-postgres.sh scripts/demo.sh

# Sync throughput against the simulator executable at Attentive's limits (BENCHMARKS.md "Sync"); figures go to
# reports/bench/. Not a test: it prints what it measured.
bench-sync: deps
	@scripts/install-deps.sh curl
	$(SWIFT) build -c release --product referral-sync
	$(SWIFT) build -c release --product attentive-simulator
	scripts/with-postgres.sh scripts/bench-sync.sh

clean:
	rm -rf .build
