/**
 * The import-graph check (issue 11, scripts/check-imports.mjs) proven on small trees in
 * test/fixtures/import-graph/: each tree holds one kind of offence, and the check must name it
 * with the files involved and exit 1; the clean tree passes with exit 0.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../scripts/check-imports.mjs', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/import-graph/', import.meta.url));

interface Offence {
  kind: string;
  message: string;
}
interface Report {
  files: number;
  fileEdges: number;
  packageImports: number;
  largest: { file: string; lines: number }[];
  offences: Offence[];
}

async function check(tree: string): Promise<{ code: number; report: Report }> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, '--json', '--root', FIXTURES + tree]);
    return { code: 0, report: JSON.parse(stdout) as Report };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, report: JSON.parse(e.stdout) as Report };
  }
}

describe('check-imports', () => {
  it('passes a clean tree (static, type-only, re-export and dynamic imports) and reports counts and the largest files', async () => {
    const { code, report } = await check('clean');
    expect(report.offences).toEqual([]);
    expect(code).toBe(0);
    expect(report.files).toBe(8);
    // pool→backoff, enqueue→pool, worker→enqueue (dynamic), index→enqueue, index→worker (export *), main→helper
    expect(report.fileEdges).toBe(6);
    expect(report.packageImports).toBe(3);
    expect(report.largest[0]).toEqual({ file: 'packages/core/src/queue/enqueue.ts', lines: 5 });
  });

  it('fails on a file cycle and names the cycle, counting a type-only import', async () => {
    const { code, report } = await check('file-cycle');
    expect(code).toBe(1);
    expect(report.offences.map((o) => o.kind)).toEqual(['file-cycle']);
    const [offence] = report.offences;
    expect(offence.message).toContain('file cycle among 2 files');
    expect(offence.message).toContain('packages/core/src/queue/a.ts → packages/core/src/queue/b.ts → packages/core/src/queue/a.ts');
    // c.ts imports into the cycle but is not part of it.
    expect(offence.message).not.toContain('c.ts');
  });

  it('fails on a folder cycle that has no file cycle and names the importing files', async () => {
    const { code, report } = await check('folder-cycle');
    expect(code).toBe(1);
    expect(report.offences.map((o) => o.kind)).toEqual(['folder-cycle']);
    expect(report.offences[0].message).toContain('packages/core/src/db → packages/core/src/observability → packages/core/src/db');
    expect(report.offences[0].message).toContain('packages/core/src/db/x.ts → packages/core/src/observability/y.ts');
    expect(report.offences[0].message).toContain('packages/core/src/observability/y.ts → packages/core/src/db/z.ts');
  });

  it('fails on an import from a lower rank to a higher one and on a folder the rank table lacks', async () => {
    const { code, report } = await check('rank');
    expect(code).toBe(1);
    expect(report.offences).toEqual([
      {
        kind: 'unknown-folder',
        message: expect.stringContaining("packages/core/src/misc/thing.ts: folder 'misc' is not in RANKS — add it"),
      },
      {
        kind: 'rank',
        message: expect.stringContaining(
          'packages/core/src/db/pool.ts [db, rank 1] imports packages/core/src/queue/enqueue.ts [queue, rank 3]',
        ),
      },
    ]);
  });

  it('fails on an app importing an app, a path outside the exports map, a relative path into another package and contracts importing core', async () => {
    const { code, report } = await check('apps');
    expect(code).toBe(1);
    const byKind = Object.fromEntries(report.offences.map((o) => [o.kind, o.message]));
    expect(Object.keys(byKind).sort()).toEqual(['app-imports-app', 'not-exported', 'outside-package', 'package-order']);
    expect(byKind['app-imports-app']).toContain("apps/producer/src/main.ts imports '@jobline/worker/main'");
    expect(byKind['not-exported']).toContain("'./dist/queue/enqueue.js' is not in the exports map of @jobline/core");
    expect(byKind['outside-package']).toContain("'../../worker/src/main.js'");
    expect(byKind['package-order']).toContain('contracts must not depend on core');
  });
});
