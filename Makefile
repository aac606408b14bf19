# referral-sync: the README's two commands are `make demo` and `make test`. Both install what is missing.
SWIFT ?= swift
SWIFT_FORMAT_PATHS = Package.swift Sources Tests Plugins Tools

.PHONY: all deps test-deps build release test test-citus lint format demo bench bench-citus bench-sync bench-events clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_FORMAT_PATHS)

format:
	$(SWIFT) format --in-place --recursive $(SWIFT_FORMAT_PATHS)

# What only the tests need: promtool (checks the metrics file), PyYAML (reads deploy/kubernetes), cmark-gfm (parses
# revenue.md and explain's Markdown as GitHub-flavoured Markdown) and librsvg2-bin (rsvg-convert renders revenue.svg).
TEST_PACKAGES = prometheus python3-yaml cmark-gfm librsvg2-bin

test-deps:
	@scripts/install-deps.sh $(TEST_PACKAGES)

# The suites that load the machine most (private clusters restarted, 50,000 generated customers, dozens of child
# processes, long refreshes on the test's own thread) run second, on their own: beside the rest they starved the
# signal and timing tests of the two-core machine (a SIGTERM that came after the run had finished). They run one
# at a time: each measures something (requests after a lost lock, a refresh caught mid-way) that load would blur.
# FullRecomputeTests blocks its test thread on purpose (a full refresh waiting out a reader's lock).
HEAVY_SUITES = PostgresRestartTests|DatabaseAndDiskFaultTests|PasswordRedactionTests|RefreshBeforeAndAfterTests|FullRecomputeTests

# How many tests run at once (Swift Testing's own bound; unbounded by default). On two cores, a hundred tests each
# running a job in-process (its pipeline thread, its libcurl thread, its simulator's threads, its database
# sessions) stretched the timing tests past their bounds; eight keep both cores busy without that.
TEST_WIDTH ?= 8

# Lint, then the whole suite against a throwaway PostgreSQL cluster and the loopback Attentive simulator.
test: deps test-deps lint
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_WIDTH) \
	scripts/with-postgres.sh $(SWIFT) test --skip-build --skip '$(HEAVY_SUITES)'
	scripts/with-postgres.sh $(SWIFT) test --skip-build --no-parallel --filter '$(HEAVY_SUITES)'
	@scripts/with-citus.sh $(SWIFT) test --skip-build --filter CitusTests; status=$$?; \
	  if [ $$status -eq 77 ]; then echo "Citus tests skipped (see above; make test-citus runs them)"; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi

# Only the Citus tests (issue 28), on a throwaway coordinator and two workers: fails when Citus is not installed
# (README "Several workers and a distributed PostgreSQL" says how to build it).
test-citus: deps test-deps
	$(SWIFT) build --build-tests
	scripts/with-citus.sh $(SWIFT) test --skip-build --filter CitusTests

# The main job on an embedded default: throwaway PostgreSQL, sample data, the simulator; run twice.
demo: deps
	$(SWIFT) build --product referral-sync
	$(SWIFT) build --product attentive-simulator
	scripts/with-postgres.sh scripts/demo.sh

# Sync throughput against the simulator executable at Attentive's limits (BENCHMARKS.md "Sync"); figures go to
# reports/bench/. Not a test: it prints what it measured.
bench-sync: deps
	@scripts/install-deps.sh curl time
	$(SWIFT) build -c release --product referral-sync
	$(SWIFT) build -c release --product attentive-simulator
	scripts/with-postgres.sh scripts/bench-sync.sh

# Events (BENCHMARKS.md "Events"): a backfill's throughput against the simulator at 150/s and 50 ms, the cost of
# a quiet events run at BENCH_EVENTS_SCALE participants (default 1,000,000; empty skips it), and a backfill of
# BENCH_EVENTS_BACKFILL_COUNT events (default 1,000,000; empty skips it): rate and peak RSS, and the follower
# (BENCH_FOLLOW=0 skips it). Not a test. The defaults are set here: make exports a variable it names even when unset,
# as empty, which the script would read as "skip".
BENCH_EVENTS_SCALE ?= 1000000
BENCH_EVENTS_BACKFILL_COUNT ?= 1000000
export BENCH_EVENTS_COUNT BENCH_EVENTS_SCALE BENCH_EVENTS_QUIET_RUNS BENCH_EVENTS_BACKFILL_COUNT BENCH_EVENTS_BACKFILL_RPS \
  BENCH_FOLLOW BENCH_FOLLOW_SECONDS BENCH_FOLLOW_IDLE_SECONDS
bench-events: deps
	@scripts/install-deps.sh curl time
	$(SWIFT) build -c release --product referral-sync
	$(SWIFT) build -c release --product attentive-simulator
	REFERRAL_SYNC_PG_OPTIONS="$(BENCH_PG_OPTIONS)" scripts/with-postgres.sh scripts/bench-events.sh

# The million-referrer benchmark (BENCHMARKS.md): throwaway cluster with the settings below, generated data at
# BENCH_SCALES participants, release build; prints a Markdown table and writes it to reports/bench/.
# Not part of `make test` or CI. Quicker: make bench BENCH_SCALES=100000 BENCH_REPEAT=1
BENCH_PG_OPTIONS ?= -c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=512MB \
	-c effective_cache_size=8GB -c max_wal_size=8GB -c random_page_cost=1.1 \
	-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c autovacuum=off
export BENCH_SCALES BENCH_SCALE BENCH_REPEAT BENCH_REAL_SYNC_MAX BENCH_FULL_RUNS
# The same history in a database of PostgreSQL alone and in a store of a distributed schema of one Citus cluster
# (issue 28, BENCHMARKS.md "Citus"): needs Citus installed, like make test-citus. BENCH_SCALE (1000000), BENCH_REPEAT.
bench-citus: deps
	$(SWIFT) build -c release --product referral-sync
	$(SWIFT) build -c release --product attentive-simulator
	REFERRAL_SYNC_PG_OPTIONS="$(BENCH_PG_OPTIONS)" scripts/with-citus.sh scripts/bench/citus.sh

bench: deps
	scripts/install-deps.sh time
	$(SWIFT) build -c release --product referral-sync
	$(SWIFT) build -c release --product attentive-simulator
	REFERRAL_SYNC_PG_OPTIONS="$(BENCH_PG_OPTIONS)" scripts/with-postgres.sh scripts/bench/run.sh

clean:
	rm -rf .build
