#!/usr/bin/env bash
# testcontainers (issue 18 item 5): @jobline/testing's startPostgresContainer — the engine of
# createTestDatabase({ container: true }) — started through testcontainers on podman's Docker API,
# from a PostgreSQL image built locally from Debian packages (no registry here), then Jobline's
# migrate, enqueue and a worker run against it. Ryuk (testcontainers' reaper) is an image that
# cannot be pulled here, so it is disabled; the helper reaps its own orphans and the step removes
# whatever is left by label.
# Podman missing → installed by .ci/podman.sh; if that fails the step fails (never a skip).
# Cold (no images): ~60 s here (bookworm 27 s, postgres 29 s); warm: ~8 s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/podman.sh
source .ci/images/lib.sh
command -v podman >/dev/null || { echo "podman is required for the testcontainers step" >&2; exit 1; }

cleanup() {
  local ids
  ids=$(podman ps -aq --filter label=dev.jobline.testing 2>/dev/null || true)
  [ -z "$ids" ] || podman rm -f -t 2 $ids >/dev/null 2>&1 || true
}
trap cleanup EXIT

t0=$SECONDS
ensure_postgres_image
echo "postgres image ready in $((SECONDS - t0)) s: $(podman run --rm --entrypoint postgres "$POSTGRES_IMAGE" --version)"

export TESTCONTAINERS_RYUK_DISABLED=true JOBLINE_TEST_POSTGRES_IMAGE=$POSTGRES_IMAGE
npx vitest run --config vitest.testcontainers.config.ts
left=$(podman ps -aq --filter label=dev.jobline.testing | wc -l)
[ "$left" = 0 ] || { echo "$left labelled container(s) left behind after the tests" >&2; exit 1; }
