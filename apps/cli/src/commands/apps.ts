import type { Command } from '../context.js';
import { BENCH_RUN, PRODUCER_MAIN, WORKER_MAIN, runApp } from './spawn-app.js';

export const producer: Command = {
  name: 'producer',
  summary: 'run the HTTP API (apps/producer)',
  usage: 'producer [--port N] [--host H] [--pretty]',
  help: `Runs the producer service: the HTTP API for enqueueing and querying jobs, DAG runs and job
definitions, with /healthz, /readyz, /metrics and /openapi.json. Stops on SIGTERM/Ctrl-C.

Environment: DATABASE_URL, PORT (default 8080), HOST, LOG_LEVEL, LOG_FORMAT=pretty,
JOBLINE_SCHEMA, JOBLINE_API_TOKENS (JSON, see apps/README.md), JOBLINE_AUTH=off (local only),
JOBLINE_MAX_BODY_BYTES, JOBLINE_MAX_INPUT_BYTES, JOBLINE_POOL_SIZE, JOBLINE_MIGRATE.
Exit code 2 for bad configuration, naming each bad variable.`,
  passThrough: true,
  run: ({ rest }) => runApp(PRODUCER_MAIN, rest),
};

export const worker: Command = {
  name: 'worker',
  summary: 'run a worker process (apps/worker)',
  usage: 'worker --queues a,b --concurrency N --handlers ./handlers.js [--port P]',
  help: `Runs a worker: claims jobs from the queues and runs them with the handler module's exports
({ [jobName]: async (input, ctx) => output }) or, for jobs enqueued by a "process" definition,
by spawning the definition's command. The first SIGTERM/Ctrl-C stops gracefully (running
jobs get --shutdown-grace-ms, then are released to other workers); a second one forces.

Options (each overrides the environment variable in brackets):
  --queues a,b             queues to claim from [JOBLINE_QUEUES, default "default"]
  --concurrency N          jobs at once [JOBLINE_CONCURRENCY, default 10]
  --handlers FILE          handler module (ESM) [JOBLINE_HANDLERS]
  --port P|off             serve /healthz, /readyz, /metrics on P [PORT, default 9090 when free]
  --host H                 [HOST, default 0.0.0.0]
  --id ID                  stable worker id [JOBLINE_WORKER_ID]
  --shutdown-grace-ms MS   [JOBLINE_SHUTDOWN_GRACE_MS, default 10000]
  --kill-grace-ms MS       SIGTERM→SIGKILL for process jobs [JOBLINE_KILL_GRACE_MS, default 2000]
  --backoff-base-ms MS     retry backoff base [JOBLINE_BACKOFF_BASE_MS, default 1000]
  --backoff-max-ms MS      retry backoff cap [JOBLINE_BACKOFF_MAX_MS, default 3600000]
  --pretty                 human-readable logs (else JSON on stderr)

Environment also: DATABASE_URL, JOBLINE_SCHEMA, LOG_LEVEL, JOBLINE_POOL_SIZE, JOBLINE_MIGRATE,
JOBLINE_MAINTENANCE.`,
  passThrough: true,
  run: ({ rest }) => runApp(WORKER_MAIN, rest),
};

export const bench: Command = {
  name: 'bench',
  summary: 'run the benchmark (bench/run.mjs): Jobline vs peers vs raw SQL',
  usage: 'bench [args passed to bench/run.mjs]',
  help: `Runs node bench/run.mjs with the given arguments (see bench/README.md; \`jobline bench --help\`
is answered here, \`jobline bench -- --help\` asks the benchmark itself). Progress and results
are printed by the benchmark.`,
  passThrough: true,
  run: ({ rest }) => runApp(BENCH_RUN, rest[0] === '--' ? rest.slice(1) : rest),
};
