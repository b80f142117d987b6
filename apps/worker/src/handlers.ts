import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handler, Handlers } from '@jobline/core';

export class HandlerModuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HandlerModuleError';
  }
}

/**
 * Loads a handler module (DESIGN §6): `export async function sendEmail(input, ctx) {…}` or
 * `export default { 'send-email': async (input, ctx) => … }` — named function exports and the
 * default export's function properties together, the default export winning on a clash (it
 * can use names that are not JavaScript identifiers).
 */
export async function loadHandlers(path: string, cwd = process.cwd()): Promise<Handlers> {
  const file = resolve(cwd, path);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    throw new HandlerModuleError(`cannot load handler module ${file}: ${(err as Error).message}`, { cause: err });
  }
  const handlers: Handlers = {};
  for (const [name, v] of Object.entries(mod)) if (name !== 'default' && typeof v === 'function') handlers[name] = v as Handler;
  const dflt = mod.default;
  if (dflt && typeof dflt === 'object') {
    for (const [name, v] of Object.entries(dflt)) if (typeof v === 'function') handlers[name] = v as Handler;
  }
  if (!Object.keys(handlers).length) {
    throw new HandlerModuleError(`${file} exports no handler functions; export { [jobName]: async (input, ctx) => output }`);
  }
  return handlers;
}
