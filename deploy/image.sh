#!/usr/bin/env bash
# make image: builds herald's container image from deploy/Dockerfile with the
# first container engine that works on this machine: docker (only when its
# daemon answers: the client alone cannot build), podman, or buildah. Where
# none works it says why for each and exits 1.
#
#   IMAGE   the tag (default herald:dev)
#   VERSION stamped into the binary (default: git describe --always --dirty)
#   ENGINE  docker, podman or buildah, to choose one
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-herald:dev}
version=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo devel)}
dockerfile=deploy/Dockerfile
ignorefile=deploy/Dockerfile.dockerignore

# works ENGINE: whether ENGINE can build here; sets reason when it cannot.
reason=""
works() {
  local out
  if ! command -v "$1" >/dev/null 2>&1; then
    reason="$1: not installed"
    return 1
  fi
  # `docker info` fails when no daemon answers (the client alone is not
  # enough); podman and buildah build without a daemon but need their storage.
  if ! out=$("$1" info 2>&1 >/dev/null); then
    reason="$1: installed, but \`$1 info\` fails: $(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 1)"
    return 1
  fi
}

engine=""
reasons=()
for candidate in ${ENGINE:-docker podman buildah}; do
  if works "$candidate"; then
    engine=$candidate
    break
  fi
  reasons+=("$reason")
done

if [ -z "$engine" ]; then
  echo "make image: no container engine can build here, so no image was built:" >&2
  printf '  - %s\n' "${reasons[@]}" >&2
  echo "Install docker (with its daemon running), podman or buildah, or build elsewhere:" >&2
  echo "  docker build -f $dockerfile --build-arg VERSION=$version -t $image ." >&2
  echo "(make test still checks the Dockerfile's binary: static, non-root; see deploy/README.md.)" >&2
  exit 1
fi

echo "make image: building $image (version $version) with $engine" >&2
case $engine in
  docker) DOCKER_BUILDKIT=1 docker build -f "$dockerfile" --build-arg "VERSION=$version" -t "$image" . ;;
  podman) podman build -f "$dockerfile" --ignorefile "$ignorefile" --build-arg "VERSION=$version" -t "$image" . ;;
  buildah) buildah build -f "$dockerfile" --ignorefile "$ignorefile" --build-arg "VERSION=$version" -t "$image" . ;;
esac
echo "make image: built $image" >&2
