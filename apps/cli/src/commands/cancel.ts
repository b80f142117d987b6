import { connect, parseId, type Command } from '../context.js';
import { UsageError } from '../errors.js';
import { writeJson } from '../output.js';

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job that has not finished',
  usage: 'cancel <jobId> [--json]',
  help: `Cancels a job that has not finished; a running attempt's AbortSignal fires on its worker
(process jobs have their process group killed). Exit code 1 when the job does not exist or has
already finished.`,
  async run({ positionals, json }) {
    if (positionals.length !== 1) throw new UsageError('give one job id');
    const id = parseId(positionals[0], 'job id');
    const jl = await connect();
    try {
      const job = await jl.cancel(id);
      if (json) writeJson(job);
      else process.stdout.write(`cancelled job ${job.id} (${job.queue}/${job.name})\n`);
      return 0;
    } finally {
      await jl.close();
    }
  },
};
