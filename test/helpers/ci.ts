/**
 * Whether the tests run in CI, where a missing service is a failure, never a skip. `CI` counts as
 * true for any non-empty value other than `false` or `0` (CI systems set `true`, `1`, or their
 * name; a developer may write `CI=false` to say no).
 */
export function isCI(env: Record<string, string | undefined> = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}
