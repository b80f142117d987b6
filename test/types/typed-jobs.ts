/**
 * Compile-time tests of the typed-jobs API (packages/core/src/typed-jobs.ts), checked by
 * `npm run typecheck` (tsc -p test/types). Each `@ts-expect-error` line must fail to compile:
 * if the API stopped catching that mistake, tsc reports the directive as unused and fails.
 * Nothing here runs; the functions only have to typecheck.
 */
import { z } from 'zod';
import { Jobline, type Job, type JobsFromSchemas, type TypedJobline } from '@jobline/core';

type Jobs = {
  'send-email': { input: { to: string; template?: string }; output: { messageId: string } };
  resize: { input: { url: string; width: number }; output: { url: string; bytes: number } };
  cleanup: { output: { removed: number } }; // no input
};

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_: T): void => {};

export async function typedEnqueue(): Promise<void> {
  const jl = await Jobline.connect<Jobs>({ databaseUrl: 'postgres://x' });
  const job = await jl.enqueue({ queue: 'emails', name: 'send-email', input: { to: 'a@example.com' } });
  assertType<Equal<typeof job.input, { to: string; template?: string }>>(true);
  assertType<Equal<typeof job.output, { messageId: string } | undefined>>(true);
  await jl.enqueue({ name: 'cleanup' });

  // @ts-expect-error wrong input type
  await jl.enqueue({ name: 'send-email', input: { to: 42 } });
  // @ts-expect-error missing input field
  await jl.enqueue({ name: 'resize', input: { url: 'u' } });
  // @ts-expect-error missing input
  await jl.enqueue({ name: 'resize' });
  // @ts-expect-error unknown job name
  await jl.enqueue({ name: 'send-emails', input: { to: 'a' } });
  // @ts-expect-error unknown property in the spec
  await jl.enqueue({ name: 'cleanup', priorty: 1 });

  await jl.enqueueMany([
    { name: 'send-email', input: { to: 'b@example.com' } },
    { name: 'resize', input: { url: 'u', width: 100 } },
  ]);
  // One job's input does not match its name. Written one element per line (the formatter's layout)
  // so the expectation sits on the element that is wrong.
  await jl.enqueueMany([
    { name: 'send-email', input: { to: 'b' } },
    // @ts-expect-error 'resize' takes { url, width }
    { name: 'resize', input: { to: 'b' } },
  ]);
}

export async function typedGetJob(jl: TypedJobline<Jobs>, id: number): Promise<number> {
  const r = await jl.getJob<'resize'>(id);
  assertType<Equal<typeof r.output, { url: string; bytes: number } | undefined>>(true);
  // @ts-expect-error output of resize has no messageId
  r.output?.messageId;
  // @ts-expect-error not a declared name
  await jl.getJob<'nope'>(id);
  const any = await jl.getJob(id);
  if (any.name === 'send-email') return any.output?.messageId.length ?? 0;
  // @ts-expect-error not narrowed: could be any declared job
  return any.output?.bytes ?? 0;
}

export function typedHandlers(jl: TypedJobline<Jobs>): void {
  jl.worker({
    queues: ['emails'],
    handlers: {
      'send-email': async (input, ctx) => {
        assertType<Equal<typeof input, { to: string; template?: string }>>(true);
        assertType<Equal<typeof ctx.job.input, { to: string; template?: string }>>(true);
        return { messageId: `m-${input.to}` };
      },
      cleanup: () => ({ removed: 3 }),
    },
  });
  jl.worker({
    queues: ['media'],
    handlers: {
      // @ts-expect-error wrong output type
      resize: async (input) => ({ url: input.url }),
    },
  });
  jl.worker({
    queues: ['media'],
    handlers: {
      // @ts-expect-error handler for a job that is not declared
      thumbnail: async () => ({}),
    },
  });
  jl.worker({
    queues: ['media'],
    handlers: {
      // @ts-expect-error input is { url, width }: no `size`
      resize: async (input: { size: number }) => ({ url: '', bytes: input.size }),
    },
  });
}

export async function typedDag(jl: TypedJobline<Jobs>): Promise<void> {
  await jl.submitDag({
    name: 'welcome',
    nodes: [
      { key: 'img', name: 'resize', input: { url: 'u', width: 64 } },
      { key: 'mail', name: 'send-email', input: { to: { $ref: 'img.output.url' } }, dependsOn: ['img'] },
    ],
  });
  await jl.submitDag({
    name: 'bad',
    // @ts-expect-error node input does not match its job
    nodes: [{ key: 'img', name: 'resize', input: { url: 'u', width: 'wide' } }],
  });
  await jl.submitDag({
    name: 'bad',
    // @ts-expect-error unknown job name in a node
    nodes: [{ key: 'x', name: 'transcode', input: {} }],
  });
}

/** Types from zod schemas (Standard Schema). */
const schemas = {
  greet: { input: z.object({ name: z.string() }), output: z.object({ text: z.string() }) },
};
export async function fromSchemas(): Promise<void> {
  const jl = await Jobline.connect<JobsFromSchemas<typeof schemas>>();
  const j = await jl.enqueue({ name: 'greet', input: { name: 'Ada' } });
  assertType<Equal<typeof j.output, { text: string } | undefined>>(true);
  // @ts-expect-error schema says name is a string
  await jl.enqueue({ name: 'greet', input: { name: 1 } });
  jl.worker({ queues: ['q'], handlers: { greet: (i) => ({ text: `hi ${i.name}` }) } });
}

/** Without a type argument nothing changes: any name, input inferred, handlers untyped. */
export async function untyped(): Promise<void> {
  const jl = await Jobline.connect();
  const job = await jl.enqueue({ name: 'anything', input: { n: 1 } });
  assertType<Equal<typeof job, Job<{ n: number }>>>(true);
  await jl.enqueueMany([{ name: 'a' }, { name: 'b', input: [1, 2] }]);
  const got = await jl.getJob(1);
  assertType<Equal<typeof got, Job>>(true);
  jl.worker({ queues: ['q'], handlers: { anything: async (input: { n: number }) => input.n + 1 } });
  await jl.submitDag({ name: 'd', nodes: [{ key: 'a', name: 'x', input: { whatever: true } }] });
  // An untyped instance can be typed later.
  const typed = jl.typed<Jobs>();
  // @ts-expect-error typed now
  await typed.enqueue({ name: 'anything' });
}
