#!/usr/bin/env node
import { run } from './cli.js';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain and the loop end on its own; only a handle left open by mistake gets cut.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err) => {
    process.stderr.write(`jobline: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  },
);
