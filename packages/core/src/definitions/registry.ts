import { isDeepStrictEqual } from 'node:util';
import { DuplicateError, NotFoundError, fromPgError } from '../db/errors.js';
import type { Queryable } from '../db/pool.js';
import { parseOrThrow } from '../schemas.js';
import { DefinitionSpecSchema, type Definition, type DefinitionRef, type DefinitionSpec, type ParsedDefinitionSpec } from './schema.js';

const COLUMNS = `name, version, executor, image, command, args, env, secret_env, resources, container, input_schema, defaults, created_at`;

/** A `job_definitions` row as selected with `COLUMNS`. */
interface DefinitionRow {
  name: string;
  version: number;
  executor: Definition['executor'];
  image: string | null;
  command: string | null;
  args: string[];
  env: Record<string, string>;
  secret_env: string[];
  resources: Definition['resources'];
  container: NonNullable<Definition['container']> | null;
  input_schema: Record<string, unknown> | null;
  defaults: Definition['defaults'];
  created_at: Date;
}

function mapDefinition(r: DefinitionRow): Definition {
  return {
    name: r.name,
    version: r.version,
    executor: r.executor,
    ...(r.image === null ? {} : { image: r.image }),
    ...(r.command === null ? {} : { command: r.command }),
    args: r.args,
    env: r.env,
    secretEnv: r.secret_env,
    resources: r.resources,
    ...(r.container === null ? {} : { container: r.container }),
    ...(r.input_schema === null ? {} : { inputSchema: r.input_schema }),
    defaults: r.defaults,
    createdAt: r.created_at,
  };
}

export interface CreatedDefinition {
  definition: Definition;
  /** false when the latest version was identical and was returned instead of a new version. */
  created: boolean;
}

/** The fields that make two versions "the same definition". */
const content = (d: ParsedDefinitionSpec | Definition) => ({
  executor: d.executor,
  image: d.image,
  command: d.command,
  args: d.args,
  env: d.env,
  secretEnv: d.secretEnv,
  resources: d.resources,
  container: d.container,
  inputSchema: d.inputSchema,
  defaults: d.defaults,
});

const insertSql = (s: string) => `
  insert into ${s}.job_definitions (name, version, executor, command, args, env, secret_env, resources, input_schema, defaults, image, container)
  values ($1, coalesce($2::int, (select coalesce(max(version), 0) + 1 from ${s}.job_definitions where name = $1)),
          $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
  returning ${COLUMNS}`;

/**
 * Registers a definition. With an explicit version that exists → DuplicateError (versions are
 * immutable). Without one, an identical latest version is returned as is (so deploy scripts
 * can register on every start), otherwise the next version is created.
 */
export async function createDefinition(db: Queryable, s: string, raw: DefinitionSpec): Promise<CreatedDefinition> {
  const spec = parseOrThrow(DefinitionSpecSchema, raw);
  // Two creators racing for the same next version: the loser retries and sees the winner's row.
  for (let attempt = 1; ; attempt++) {
    if (spec.version === undefined) {
      const latest = await findDefinition(db, s, { name: spec.name });
      if (latest && isDeepStrictEqual(content(latest), content(spec))) return { definition: latest, created: false };
    }
    try {
      const { rows } = await db.query<DefinitionRow>(insertSql(s), [
        spec.name,
        spec.version ?? null,
        spec.executor,
        spec.command ?? null,
        spec.args,
        JSON.stringify(spec.env),
        spec.secretEnv,
        JSON.stringify(spec.resources),
        spec.inputSchema === undefined ? null : JSON.stringify(spec.inputSchema),
        JSON.stringify(spec.defaults),
        spec.image ?? null,
        spec.container === undefined ? null : JSON.stringify(spec.container),
      ]);
      return { definition: mapDefinition(rows[0]), created: true };
    } catch (err) {
      const e = fromPgError(err, 'job definition');
      if (e instanceof DuplicateError && spec.version === undefined && attempt < 5) continue;
      if (e instanceof DuplicateError) {
        throw new DuplicateError('job definition', `name "${spec.name}" and version ${spec.version}`, { cause: err });
      }
      throw e;
    }
  }
}

/** A definition by name (latest version) or name and version; undefined when there is none. */
export async function findDefinition(db: Queryable, s: string, ref: DefinitionRef): Promise<Definition | undefined> {
  const { rows } = await db.query<DefinitionRow>(
    `select ${COLUMNS} from ${s}.job_definitions
      where name = $1 and ($2::int is null or version = $2)
      order by version desc limit 1`,
    [ref.name, ref.version ?? null],
  );
  return rows.length ? mapDefinition(rows[0]) : undefined;
}

export async function getDefinition(db: Queryable, s: string, ref: DefinitionRef): Promise<Definition> {
  const d = await findDefinition(db, s, ref);
  if (!d) throw new NotFoundError('job definition', ref.version === undefined ? ref.name : `${ref.name}@${ref.version}`);
  return d;
}

/** Several refs in one query (enqueue by definition); missing refs are absent from the map. */
export async function findDefinitions(db: Queryable, s: string, refs: DefinitionRef[]): Promise<Map<string, Definition>> {
  const { rows } = await db.query<DefinitionRow & { ref: string }>(
    `select distinct on (r.ref) r.ref, ${COLUMNS.split(', ')
      .map((c) => `d.${c}`)
      .join(', ')}
       from unnest($1::text[], $2::text[], $3::int[]) as r(ref, name, version)
       join ${s}.job_definitions d on d.name = r.name and (r.version is null or d.version = r.version)
      order by r.ref, d.version desc`,
    [refs.map(refKey), refs.map((r) => r.name), refs.map((r) => r.version ?? null)],
  );
  return new Map(rows.map((r) => [r.ref as string, mapDefinition(r)]));
}

export const refKey = (r: DefinitionRef): string => (r.version === undefined ? r.name : `${r.name}@${r.version}`);

export interface DefinitionFilter {
  /** Every version of this definition, newest first; without it, the latest version of each. */
  name?: string;
}

export async function listDefinitions(db: Queryable, s: string, f: DefinitionFilter = {}): Promise<Definition[]> {
  const { rows } =
    f.name === undefined
      ? await db.query<DefinitionRow>(`select distinct on (name) ${COLUMNS} from ${s}.job_definitions order by name, version desc`)
      : await db.query<DefinitionRow>(`select ${COLUMNS} from ${s}.job_definitions where name = $1 order by version desc`, [f.name]);
  return rows.map(mapDefinition);
}
