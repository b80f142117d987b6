#!/usr/bin/env bash
# Starts (once per machine) a podman service that speaks the Docker Engine API on a unix socket,
# with the settings this sandbox needs, and builds the tiny local `jobline-busybox` image
# (no image registry is reachable here). Idempotent; safe to call from several test steps.
#   source .ci/podman.sh   → exports CONTAINERS_CONF, JOBLINE_DOCKER_SOCKET, DOCKER_HOST
# Settings (measured here): RLIMIT_NOFILE may not be set → default_ulimits = []; crun refuses the
# hybrid cgroup layout → runtime runc.
set -euo pipefail
if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q podman runc busybox-static >/dev/null
fi
PODMAN_DIR=${PODMAN_DIR:-/run/jobline-podman}
mkdir -p "$PODMAN_DIR"
cat > "$PODMAN_DIR/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$PODMAN_DIR/containers.conf"
SOCK="$PODMAN_DIR/podman.sock"
# A service outlives the checkout that started it, and conmon needs its working directory: one
# started from a clone that was deleted since answers _ping but fails every container ("Failed
# to get working directory", seen when a second fresh clone ran CI). So it runs from PODMAN_DIR,
# and a service whose working directory is gone is replaced.
for pid in $(pgrep -f "podman --runtime runc system service --time=0 unix://$SOCK" || true); do
  if [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == *" (deleted)" ]]; then kill "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; fi
done
if ! curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
  rm -f "$SOCK"
  (cd "$PODMAN_DIR" && nohup podman --runtime runc system service --time=0 "unix://$SOCK" >"$PODMAN_DIR/service.log" 2>&1 &)
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null || { echo "podman service did not start: $PODMAN_DIR/service.log" >&2; exit 1; }
fi
export JOBLINE_DOCKER_SOCKET="$SOCK" DOCKER_HOST="unix://$SOCK"
if ! podman image exists localhost/jobline-busybox:latest; then
  root=$(mktemp -d)
  mkdir -p "$root/bin"
  cp "$(command -v busybox)" "$root/bin/busybox"
  for app in sh cat echo sleep env ls head tail printf true false wc tr sed; do ln -s busybox "$root/bin/$app"; done
  tar -C "$root" -c . | podman import --change 'ENV PATH=/bin' - localhost/jobline-busybox:latest >/dev/null
  rm -rf "$root"
fi
