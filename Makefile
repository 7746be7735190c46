# smithc — common tasks. `make help` lists them.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 60s
BIN     ?= bin/smithc
# The shipped binary is built without cgo: statically linked, it starts
# about 1 ms sooner (no dynamic loader, no libc set-up; docs/benchmarks.md,
# "Start-up"). Nothing in smithc needs cgo: SQLite is modernc.org/sqlite,
# and net and os/user have pure-Go implementations. Tests keep the default
# (the race detector needs cgo).
SHIP    ?= CGO_ENABLED=0

.PHONY: help build install run test test-race check fmt vet lint golden fuzz bench bench-targets bench-peers bench-startup tidy-check cover

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

build: ## build bin/smithc (static, without cgo)
	$(SHIP) $(GO) build -o $(BIN) ./cmd/smithc

install: ## install smithc into GOBIN (static, without cgo)
	$(SHIP) $(GO) install ./cmd/smithc

run: build ## run the hello example on embedded SQLite (no network), in a fresh temporary directory
	@dir=$$(mktemp -d) && echo "cd $$dir" && cd "$$dir" && $(CURDIR)/$(BIN) run $(CURDIR)/examples/hello.smw --input name=world

test: ## run every test
	$(GO) test -count=1 $(PKGS)

test-race: ## run every test with the race detector
	$(GO) test -count=1 -race $(PKGS)

fmt: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet: ## go vet
	$(GO) vet $(PKGS)

lint: ## staticcheck (installed on demand)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

check: fmt vet lint test ## the gate: format, vet, lint, tests

golden: ## rewrite golden files (review the diff like code)
	SMITHC_UPDATE=1 $(GO) test -count=1 $(PKGS)

fuzz: ## run each fuzz target for FUZZTIME
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./lang/parser
	$(GO) test -run='^$$' -fuzz='^FuzzFastParse$$' -fuzztime=$(FUZZTIME) ./lang/parser
	$(GO) test -run='^$$' -fuzz='^FuzzCheck$$' -fuzztime=$(FUZZTIME) ./lang/checker
	$(GO) test -run='^$$' -fuzz='^FuzzCheckExpr$$' -fuzztime=$(FUZZTIME) ./lang/checker
	$(GO) test -run='^$$' -fuzz='^FuzzCheckUse$$' -fuzztime=$(FUZZTIME) ./lang/checker
	$(GO) test -run='^$$' -fuzz='^FuzzLiteralTree$$' -fuzztime=$(FUZZTIME) ./lang/checker
	$(GO) test -run='^$$' -fuzz='^FuzzFormat$$' -fuzztime=$(FUZZTIME) ./lang/format
	$(GO) test -run='^$$' -fuzz='^FuzzShellQuote$$' -fuzztime=$(FUZZTIME) ./stdlib
	$(GO) test -run='^$$' -fuzz='^FuzzShellTemplate$$' -fuzztime=$(FUZZTIME) ./stdlib
	$(GO) test -run='^$$' -fuzz='^FuzzParseTS$$' -fuzztime=$(FUZZTIME) ./runtime/store/sqlitestore
	$(GO) test -run='^$$' -fuzz='^FuzzStoredStringIsValidated$$' -fuzztime=$(FUZZTIME) ./schema
	$(GO) test -run='^$$' -fuzz='^FuzzRoundTrip$$' -fuzztime=$(FUZZTIME) ./schema

bench: ## run the benchmarks (medians over 5 runs with -count), then the targets table
	$(GO) test -run='^$$' -bench=. -benchmem -count=5 ./lang/... ./compiler/... ./runtime/store/... | tee bench.txt
	$(GO) test -run='^$$' -bench='^Benchmark[^T]' -benchmem -count=5 ./runtime | tee -a bench.txt
	$(GO) test -run='^$$' -bench='^Benchmark(Workers|WorkerFloor)$$' -benchtime=2000x -count=3 ./runtime/worker | tee -a bench.txt
	$(GO) test -run='^$$' -bench='^BenchmarkClaimLatency$$' -benchtime=300x -count=3 ./runtime/worker | tee -a bench.txt
	$(GO) test -run='^$$' -bench='^BenchmarkFanOut$$' -benchtime=600x -count=3 ./runtime/worker | tee -a bench.txt
	$(MAKE) --no-print-directory bench-targets | tee -a bench.txt

bench-targets: ## the performance targets, each with its baseline measured in the same run (SMITHC_BENCH_REPS=3, SMITHC_BENCH_LARGE=1 for the 10^5-element for)
	$(GO) test -run='^$$' -bench='^BenchmarkTargets$$' -benchtime=1x -timeout=60m ./runtime

bench-startup: build ## whole-process start-up figures, medians of 21 runs, beside the start-up floor (internal/startfloor) and the link floor (internal/linkfloor; OLD=binary: a before/after, interleaved)
	CGO_ENABLED=0 $(GO) build -o bin/startfloor ./internal/startfloor
	CGO_ENABLED=0 $(GO) build -o bin/linkfloor ./internal/linkfloor
	$(GO) run ./internal/startbench -reps 21 -new $(BIN) -floor bin/startfloor -link bin/linkfloor $(if $(OLD),-old $(OLD))

bench-peers: ## smithc next to Temporal local activities on 1,000 sequential steps (installs the Temporal CLI and SDK from the Go module proxy, minutes the first time; not in make test; see bench/peers/README.md)
	bash bench/peers/run.sh

cover: ## coverage report
	$(GO) test -count=1 -coverprofile=cover.out $(PKGS) && $(GO) tool cover -func=cover.out | tail -1

tidy-check: ## fail if go mod tidy changes go.mod or go.sum
	$(GO) mod tidy && git diff --exit-code go.mod go.sum
