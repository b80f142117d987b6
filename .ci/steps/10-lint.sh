#!/usr/bin/env bash
# Formatting and lint rules (Biome, biome.json; no writes — `npm run format` fixes) and the
# import-graph check (scripts/check-imports.mjs: no file or folder cycles, no import from a lower
# layer to a higher one, apps only through @jobline/* exports).
set -euo pipefail
cd "$(dirname "$0")/../.."
npm run --silent lint
npm run --silent check:imports
