/**
 * Every table and column of the migrated schema has a COMMENT (later migrations must comment
 * what they add), and the generated Markdown carries each part of the schema. The staleness of
 * the committed docs/schema.md is checked by .ci/steps/30-schema-docs.sh.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_PRIVILEGES, describeSchema, renderSchemaMarkdown, undocumented, type SchemaDoc } from '@jobline/core/admin';
import { createTestDatabase, type TestDatabase } from '@jobline/testing';
import { databaseUrl } from './helpers/db.js';
import { internals } from '@jobline/core/internal';

let db: TestDatabase;
let doc: SchemaDoc;
beforeAll(async () => {
  db = await createTestDatabase({ databaseUrl: databaseUrl() });
  doc = await describeSchema(internals(db.jl).pool, db.schema);
});
afterAll(() => db?.close());

describe('schema docs', () => {
  it('every table and column has a comment', () => {
    expect(doc.tables.length).toBeGreaterThan(10);
    expect(undocumented(doc)).toEqual([]);
  });

  it('every table has its role privileges (db/roles.ts)', () => {
    expect(doc.tables.map((t) => t.name).filter((t) => !(t in TABLE_PRIVILEGES))).toEqual([]);
  });

  it('renders columns, defaults, constraints, indexes and foreign keys without the schema name', () => {
    const md = renderSchemaMarkdown(doc);
    expect(md).not.toContain(db.schema);
    expect(md).toContain('## jobs');
    expect(md).toMatch(/\| `priority` \| integer \| not null \| `0` \| Lower runs first\. \|/);
    expect(md).toContain(
      "`jobs_claim_idx`: `CREATE INDEX jobs_claim_idx ON jobs USING btree (queue, priority, run_at, id) WHERE (state = 'available'::text)`",
    );
    expect(md).toContain('`jobs_dag_run_id_fkey`: `FOREIGN KEY (dag_run_id) REFERENCES dag_runs(id) ON DELETE CASCADE`');
    expect(md).toContain('referenced by [`jobs`](#jobs) `jobs_dag_run_id_fkey`');
    expect(md).toMatch(/`jobs_state_check` \(check\)/);
    expect(md).toContain('Storage: `fillfactor=85`');
    // The same schema renders the same text (no ordering by chance).
    expect(renderSchemaMarkdown(doc)).toBe(md);
  });
});
