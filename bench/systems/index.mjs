/** The systems a run can measure, in report order. Each module's default export is its adapter. */
export const SYSTEMS = ['jobline', 'jobline-max', 'raw', 'pg-boss', 'pg-boss-max', 'graphile-worker', 'bullmq'];
export const QUICK_SYSTEMS = ['jobline', 'raw', 'graphile-worker'];

export async function loadSystem(name) {
  if (!SYSTEMS.includes(name)) throw new Error(`unknown system "${name}"; known: ${SYSTEMS.join(', ')}`);
  return (await import(`./${name}.mjs`)).default;
}
