#!/usr/bin/env node
// Copies the repository's root migrations/ (the one source, DESIGN §1) into this package's
// migrations/ (gitignored), which `files` ships and MIGRATIONS_DIR reads. The target is
// replaced whole, so a file removed or renamed at the root does not linger in the package.
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../../migrations/', import.meta.url));
const target = fileURLToPath(new URL('../migrations/', import.meta.url));
const files = (await readdir(source)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
if (!files.length) throw new Error(`no migrations found in ${source}`);
await rm(target, { recursive: true, force: true });
await mkdir(target, { recursive: true });
for (const f of files) await cp(source + f, target + f);
