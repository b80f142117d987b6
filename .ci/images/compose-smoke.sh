#!/usr/bin/env bash
# Runs the repository's docker-compose.yml for real with local images (no registry here): the
# Dockerfile's producer/worker targets on the local Node base, Debian PostgreSQL and NATS images
# in place of postgres:16 / nats:2.10, no host ports except the producer's (the machine's own
# PostgreSQL and NATS hold 5432 and 4222). Enqueues one job through the producer; one of the two
# workers must complete it. Run by .ci/steps/55-images.sh (after it built the same targets, so
# compose's builds hit the layer cache): bash .ci/images/compose-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/podman.sh
source .ci/images/lib.sh
command -v docker-compose >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null; }
ensure_postgres_image
ensure_nats_image
PROJECT=jobline-ci-compose
file=$(mktemp --suffix=.yml)
port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
python3 - docker-compose.yml "$file" "$POSTGRES_IMAGE" "$NATS_IMAGE" "$port" <<'PY'
import sys, yaml
src, dst, pg_image, nats_image, port = sys.argv[1:]
doc = yaml.safe_load(open(src))
for name, svc in doc["services"].items():
    svc.pop("ports", None)
doc["services"]["postgres"]["image"] = pg_image
doc["services"]["nats"]["image"] = nats_image
doc["services"]["producer"]["ports"] = [f"127.0.0.1:{port}:8080"]
# Compose v1 builds every service that has a build section, even when two share an image; build
# each target once (migrate → producer image, worker-1 → worker image): ~17 s per cached build here.
for name in ("producer", "worker-2"):
    doc["services"][name].pop("build", None)
for name in ("migrate", "worker-1"):  # so step 55's prune (by this label) removes superseded builds
    doc["services"][name]["build"]["labels"] = {"dev.jobline.image": "app"}
yaml.safe_dump(doc, open(dst, "w"), sort_keys=False)
PY
compose=(docker-compose -p "$PROJECT" --project-directory . -f "$file")
down() { "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true; rm -f "$file" "$file.log"; }
ticker=
trap 'rc=$?; [ -z "$ticker" ] || kill "$ticker" 2>/dev/null; [ $rc = 0 ] || "${compose[@]}" logs --tail 30 >&2 || true; down; exit $rc' EXIT
"${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true

# Podman schedules health checks with systemd timers, absent here, so a container's health would
# stay "starting" and `depends_on: service_healthy` would wait forever. Play Docker's scheduler:
# run every project container's check each second while compose brings the stack up.
health_ticker() {
  while :; do
    for c in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT"); do
      podman healthcheck run "$c" >/dev/null 2>&1 || true
    done
    sleep 1
  done
}
health_ticker & ticker=$!
t0=$SECONDS
JOBLINE_NODE_IMAGE=$NODE_IMAGE "${compose[@]}" up -d --build >"$file.log" 2>&1 || { grep -v systemd "$file.log" >&2; exit 1; }
echo "compose up in $((SECONDS - t0)) s: $("${compose[@]}" ps --services | tr '\n' ' ')"
producer=$("${compose[@]}" ps -q producer)
deadline=$((SECONDS + 90))
until podman healthcheck run "$producer" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "compose producer not healthy after 90 s" >&2; exit 1; }
  sleep 0.5
done
migrate_exit=$(podman inspect --format '{{.State.ExitCode}}' "$("${compose[@]}" ps -q migrate)")
[ "$migrate_exit" = 0 ] || { echo "compose migrate exited $migrate_exit" >&2; exit 1; }

token=dev-token-change-me-0123456789   # the one in docker-compose.yml
api=(-sf -H "authorization: Bearer $token" -H 'content-type: application/json')
id=$(curl "${api[@]}" -d '{"queue":"emails","name":"send-email","input":{"to":"ada@example.com","template":"welcome"}}' \
  "http://127.0.0.1:$port/v1/jobs" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
deadline=$((SECONDS + 60))
until curl "${api[@]}" "http://127.0.0.1:$port/v1/jobs/$id/executions" | grep -q '"state":"completed"'; do
  [ $SECONDS -lt $deadline ] || { echo "compose job $id not completed after 60 s" >&2; exit 1; }
  sleep 0.2
done
echo "compose: job $id completed by $(curl "${api[@]}" "http://127.0.0.1:$port/v1/jobs/$id/executions" | grep -o '"workerId":"[^"]*"')"
