#!/usr/bin/env bash
# The pack test (issue 12, test/pack/run.sh): every publishable package packed, installed from
# the tarballs into a project outside the workspace, a strict TypeScript consumer compiled
# against the installed types and run, the CLI run, on Node 20, 22 and 24; then a production
# install of @jobline/core with no PostgreSQL binary. Fails when PostgreSQL is not reachable.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATABASE_URL=${CI_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} bash test/pack/run.sh 20 22 24
