/**
 * A run's verdict: which (scenario, system) results are errors. `run.mjs` exits 1 when any is,
 * so the CI smoke step fails when a scenario throws instead of passing with an ERROR line.
 * A `skipped` result (a system that does not support a scenario) is not a failure.
 */
export function failedResults(run) {
  const failed = [];
  for (const [scenario, bySystem] of Object.entries(run.results ?? {})) {
    for (const [system, result] of Object.entries(bySystem)) {
      if (result?.error) failed.push({ scenario, system, error: String(result.error).split('\n')[0] });
    }
  }
  return failed;
}

/** 0 when every scenario ran (or was skipped by design), 1 when one failed or the run was cut short. */
export function exitCodeFor(run, { interrupted = false } = {}) {
  if (interrupted) return 130;
  return failedResults(run).length > 0 ? 1 : 0;
}
