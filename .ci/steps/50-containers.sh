#!/usr/bin/env bash
# Container executor tests on a real Docker Engine API (issue 16): podman's service (installed
# and started by .ci/podman.sh when missing) and the local busybox image. No engine = failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../podman.sh
source .ci/podman.sh
DATABASE_URL=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} npx vitest run --config vitest.containers.config.ts
# The bench row's harness in its quick mode (a smoke test of the scenario, no timing asserts).
DATABASE_URL=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} timeout 300 node bench/scenarios/executors.mjs --quick
