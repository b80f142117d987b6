import { expect, it } from 'vitest';
import { isCI } from './helpers/ci.js';

it('CI is true for any non-empty value other than false/0', () => {
  for (const v of ['true', '1', 'yes', 'github', 'TRUE', ' true ']) expect(isCI({ CI: v }), v).toBe(true);
  for (const v of [undefined, '', ' ', 'false', 'FALSE', '0']) expect(isCI({ CI: v }), String(v)).toBe(false);
});
