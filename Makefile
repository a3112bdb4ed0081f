# herald: `make run` serves herald on :8080; `make test` runs every test.
GO ?= go
BIN := bin/herald

# Development defaults for `make run`; override on the command line or in the
# environment. Loopback is allowed as a target so that a local receiver works.
HERALD_API_KEY ?= dev-key-change-me
HERALD_ALLOWED_TARGET_NETWORKS ?= 127.0.0.0/8,::1/128
export HERALD_API_KEY HERALD_ALLOWED_TARGET_NETWORKS

SQLC := cd tools && $(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc
TEMPL := cd tools && $(GO) run github.com/a-h/templ/cmd/templ
OAPI := cd tools && $(GO) run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen -config ../client/oapi-codegen.yaml

.PHONY: build run test test-deploy generate check-generated vet bench chaos image

build:
	$(GO) build -o $(BIN) ./cmd/herald

run: build
	./$(BIN) serve

## test: generated code is current, vet is clean, and every test passes
## (against TEST_DATABASE_URL/DATABASE_URL if set, else an embedded PostgreSQL),
## then the checks of deploy/ (test-deploy).
test: check-generated vet
	$(GO) test -count=1 ./...
	$(MAKE) --no-print-directory test-deploy

## test-deploy: the offline checks of deploy/ (tools/deploycheck, in the tools
## module so that the Kubernetes and Prometheus libraries stay out of go.mod):
## the image's binary built as deploy/Dockerfile does (static, non-root), the
## Kubernetes manifests rendered with kustomize and strictly decoded, the
## Prometheus rules (promtool check rules, test rules) and the Grafana
## dashboard against a real /metrics scrape (promtool check metrics).
## The timeout covers the first build of herald with the Dockerfile's flags
## (-trimpath compiles every package again) on a cold cache.
test-deploy:
	cd tools && $(GO) test -count=1 -timeout 30m ./...

vet:
	@out=$$(gofmt -l .); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools && $(GO) vet ./...

## image: the container image (deploy/Dockerfile) with docker, podman or
## buildah, whichever can build here; says why for each where none can.
## IMAGE=name:tag (default herald:dev), VERSION=... (default git describe),
## ENGINE=docker|podman|buildah to choose.
IMAGE ?= herald:dev
image:
	IMAGE='$(IMAGE)' ENGINE='$(ENGINE)' deploy/image.sh

## bench: the benchmark harness at full size (about 15 minutes); see BENCHMARKS.md.
bench:
	$(GO) run ./cmd/herald-bench -size full

## chaos: the chaos suite (about 2.5 minutes): three replicas behind nginx,
## a SIGKILL, a database outage and a rolling restart under load, then an
## audit of the history; see deploy/README.md. CHAOS_FLAGS adds flags
## (go run ./cmd/herald-chaos --help).
chaos:
	$(GO) run ./cmd/herald-chaos $(CHAOS_FLAGS)

## generate: regenerate sqlc code (queries, migrations), templ code (views)
## and the Go client (client/client.gen.go, from openapi/openapi.yaml).
generate:
	$(SQLC) generate -f ../sqlc.yaml
	$(TEMPL) generate -path ../views
	$(OAPI) -o ../client/client.gen.go ../openapi/openapi.yaml

## check-generated: fails when the committed sqlc, templ or client code is stale.
check-generated:
	$(SQLC) diff -f ../sqlc.yaml
	@tmp=$$(mktemp); trap 'rm -f $$tmp' EXIT; \
	  ($(OAPI) -o $$tmp ../openapi/openapi.yaml) && \
	  if ! cmp -s $$tmp client/client.gen.go; then echo "client/client.gen.go is stale: run make generate and commit it"; exit 1; fi
	@before=$$(cat views/*_templ.go 2>/dev/null | sha256sum); \
	  ($(TEMPL) generate -path ../views >/dev/null); \
	  after=$$(cat views/*_templ.go | sha256sum); \
	  if [ "$$before" != "$$after" ]; then echo "templ output was stale: regenerated, commit views/*_templ.go (make generate)"; exit 1; fi
