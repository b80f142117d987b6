/** The installed version of a package, from its package.json (found upward from its entry: not every package exports ./package.json). */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function packageVersion(name, from = import.meta.url) {
  let dir = dirname(createRequire(from).resolve(name));
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      if (pkg.name === name) return pkg.version;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
