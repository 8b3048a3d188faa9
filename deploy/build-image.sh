#!/bin/sh
# Builds CivicStack's image with podman on a Debian machine that reaches Debian's and PyPI's
# mirrors but no container registry: the base image is made from Debian's own packages
# (debootstrap, Python 3.11 from bookworm), then the Containerfile is built on it, and the
# image is started once to check that it answers /healthz and refuses to start without a root
# key. Needs root, `podman`, `debootstrap` (and `runc` where crun cannot run, e.g. on a host
# with hybrid cgroups). Usage: deploy/build-image.sh [TAG]
set -eu
tag=${1:-localhost/civicstack:latest}
base=localhost/debian-python:3.11-bookworm
here=$(cd "$(dirname "$0")/.." && pwd)
# Extra podman options for hosts where the defaults fail (set PODMAN_OPTIONS='' to drop them).
podman_options=${PODMAN_OPTIONS---runtime runc --cgroup-manager cgroupfs}
run_options="--ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --network host"
# The host's pip settings and certificate authorities, for a build behind a mirror or proxy.
trust=""
[ -f /etc/pip.conf ] && trust="$trust -v /etc/pip.conf:/etc/pip.conf:ro"
[ -d /etc/ssl/certs ] && trust="$trust -v /etc/ssl/certs:/etc/ssl/certs:ro"

if ! podman image exists "$base"; then
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm \
    "$rootfs" http://deb.debian.org/debian
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import - "$base"
  rm -rf "$rootfs"
fi

# shellcheck disable=SC2086
podman $podman_options build --format docker $run_options $trust --build-arg BASE="$base" -t "$tag" \
  -f "$here/Containerfile" "$here"

# Without a root key the image must refuse to start (CIVICSTACK_REQUIRE_ROOT_KEY=true).
# shellcheck disable=SC2086
if ! podman $podman_options run --rm $run_options "$tag" keys list 2>&1 | grep -q "no root key"
then
  echo "the image did not refuse to start without a root key" >&2; exit 1
fi
# With a root key and a SQLite database it migrates, serves, and answers /healthz.
port=${PORT:-18000}
key=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')
# shellcheck disable=SC2086
container=$(podman $podman_options run -d --rm $run_options \
  -e CIVICSTACK_ROOT_KEY="$key" -e CIVICSTACK_DATABASE_URL=sqlite:////var/lib/civicstack/db.sqlite \
  --entrypoint sh "$tag" -c \
  "civicstack db upgrade && exec civicstack serve --host 127.0.0.1 --port $port --workers 1")
trap 'podman $podman_options stop -t 5 "$container" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 60); do
  if python3 -c "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/healthz', timeout=2).status != 200)" 2>/dev/null; then
    echo "image $tag built; it serves /healthz and refuses to start without a root key"
    exit 0
  fi
  sleep 1
done
echo "the image did not answer /healthz within 60 s" >&2
podman $podman_options logs "$container" >&2 || true
exit 1
