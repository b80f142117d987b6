/** Scenario 7: a 1,000-node DAG through `jl.submitDag` (Jobline only). Filled in once core has it. */
export async function dag(ctx) {
  return { skipped: 'jl.submitDag is not in @jobline/core yet' };
}
