/**
 * Where the CPU goes during a scenario: this process (the producers), the worker processes
 * (they report their own), and the PostgreSQL backends serving the run's database, read from
 * /proc when the server runs on this machine (absent otherwise). Backends of other databases —
 * other people's tests on a shared server — are not counted; shared background processes
 * (WAL writer, checkpointer, autovacuum) are not either.
 */
import { readFileSync } from 'node:fs';
import { withClient } from './server.mjs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime + stime
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine (all cores) from /proc/stat, or undefined off Linux. */
function machineBusyMs() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU counters now: `{ selfMs, machineMs, backends: Map<pid, ms> }`. */
export async function cpuSnapshot(url) {
  const machineMs = machineBusyMs();
  const u = process.cpuUsage();
  const backends = new Map();
  await withClient(url, async (c) => {
    const { rows } = await c.query(
      "select pid from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()",
    );
    for (const { pid } of rows) {
      const ms = procCpuMs(pid);
      if (ms !== undefined) backends.set(pid, ms);
    }
  });
  return { selfMs: (u.user + u.system) / 1000, machineMs, backends };
}

/** CPU milliseconds between two snapshots; backends that appeared meanwhile count from 0. */
export function cpuDelta(a, b, workersMs, jobs) {
  let pg = 0;
  for (const [pid, ms] of b.backends) pg += ms - (a.backends.get(pid) ?? 0);
  const out = {
    producerMs: Math.round(b.selfMs - a.selfMs),
    workersMs: Math.round(workersMs),
    postgresMs: b.backends.size ? pg : undefined,
  };
  if (a.machineMs !== undefined && b.machineMs !== undefined && out.postgresMs !== undefined) {
    // Everything else that ran meanwhile: PostgreSQL's shared background processes (WAL writer,
    // checkpointer, autovacuum) and, on a shared machine, other people's work.
    out.otherProcessesMs = Math.max(0, Math.round(b.machineMs - a.machineMs - out.producerMs - out.workersMs - out.postgresMs));
  }
  if (jobs) {
    const per = (v) => (v === undefined ? undefined : Math.round((v / jobs) * 1000 * 1000) / 1000);
    out.jobs = jobs;
    out.perJobUs = {
      producer: per(out.producerMs),
      workers: per(out.workersMs),
      postgres: per(out.postgresMs),
      other: per(out.otherProcessesMs),
    };
  }
  return out;
}
