# herald: `make run` serves herald on :8080; `make test` runs every test.
GO ?= go
BIN := bin/herald

# Development defaults for `make run`; override on the command line or in the
# environment. Loopback is allowed as a target so that a local receiver works.
HERALD_API_KEY ?= dev-key-change-me
HERALD_ALLOWED_TARGET_NETWORKS ?= 127.0.0.0/8,::1/128
export HERALD_API_KEY HERALD_ALLOWED_TARGET_NETWORKS

SQLC := cd tools && $(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc

.PHONY: build run test generate check-generated vet bench

build:
	$(GO) build -o $(BIN) ./cmd/herald

run: build
	./$(BIN) serve

## test: generated code is current, vet is clean, and every test passes
## (against TEST_DATABASE_URL/DATABASE_URL if set, else an embedded PostgreSQL).
test: check-generated vet
	$(GO) test -count=1 ./...

vet:
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the benchmark harness at full size (about 7 minutes); see BENCHMARKS.md.
bench:
	$(GO) run ./cmd/herald-bench -size full

## generate: regenerate sqlc code after changing queries or migrations.
generate:
	$(SQLC) generate -f ../sqlc.yaml

## check-generated: fails when the committed sqlc code is stale.
check-generated:
	$(SQLC) diff -f ../sqlc.yaml
