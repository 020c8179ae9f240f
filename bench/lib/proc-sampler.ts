/**
 * Samples memory and CPU of processes from /proc (Linux): every `intervalMs` it reads
 * /proc/<pid>/status (VmRSS, VmHWM) and /proc/<pid>/stat (utime + stime) of each named pid.
 */
import { readdir, readFile } from 'node:fs/promises';

export interface ProcessFigures {
  /** Highest VmRSS seen by a sample, MiB. */
  sampledPeakRssMiB: number;
  /** VmHWM (the kernel's own RSS high-water mark since the process started) at the last sample, MiB. */
  hwmMiB: number;
  /** VmRSS at the last sample, MiB. */
  lastRssMiB: number;
  /** CPU seconds (user + system, plus that of its exited children, e.g. CGI processes) in the current window. */
  cpuSeconds: number;
}

export interface ProcSampler {
  /** Adds a process to sample (name → pid). */
  add(name: string, pid: number): void;
  /** Starts a new window: sampled peaks and CPU baselines restart from now (HWM is the kernel's). */
  resetWindow(): Promise<void>;
  /** Figures per name for the current window. */
  figures(): Promise<Record<string, ProcessFigures>>;
  stop(): void;
}

const clockTicks = 100; // USER_HZ on Linux

async function readStatus(pid: number): Promise<{ rssKiB: number; hwmKiB: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(text);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(text);
    return { rssKiB: Number(rss?.[1] ?? 0), hwmKiB: Number(hwm?.[1] ?? 0) };
  } catch {
    return undefined;
  }
}

async function readCpuTicks(pid: number): Promise<number | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which is in parentheses and may contain spaces)
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime (fields 14–17): children count once reaped (git http-backend CGIs)
    return Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  } catch {
    return undefined;
  }
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

export function startProcSampler(intervalMs = 200): ProcSampler {
  const pids = new Map<string, number>();
  const peakKiB = new Map<string, number>();
  const lastKiB = new Map<string, { rss: number; hwm: number }>();
  const cpuBase = new Map<string, number>();
  let sampling: Promise<void> = Promise.resolve();

  const sampleOnce = async (): Promise<void> => {
    await Promise.all(
      [...pids].map(async ([name, pid]) => {
        const s = await readStatus(pid);
        if (!s) return;
        lastKiB.set(name, { rss: s.rssKiB, hwm: s.hwmKiB });
        peakKiB.set(name, Math.max(peakKiB.get(name) ?? 0, s.rssKiB));
      }),
    );
  };
  const timer = setInterval(() => {
    sampling = sampling.then(sampleOnce);
  }, intervalMs);
  timer.unref();

  return {
    add(name, pid) {
      pids.set(name, pid);
      void readCpuTicks(pid).then((t) => {
        if (t !== undefined) cpuBase.set(name, t);
      });
    },
    async resetWindow() {
      await sampling;
      peakKiB.clear();
      await Promise.all(
        [...pids].map(async ([name, pid]) => {
          const t = await readCpuTicks(pid);
          if (t !== undefined) cpuBase.set(name, t);
        }),
      );
      await sampleOnce();
    },
    async figures() {
      await sampling;
      await sampleOnce();
      const out: Record<string, ProcessFigures> = {};
      for (const [name, pid] of pids) {
        const last = lastKiB.get(name) ?? { rss: 0, hwm: 0 };
        const ticks = await readCpuTicks(pid);
        out[name] = {
          sampledPeakRssMiB: mib(peakKiB.get(name) ?? last.rss),
          hwmMiB: mib(last.hwm),
          lastRssMiB: mib(last.rss),
          cpuSeconds: ticks === undefined ? Number.NaN : Math.round(((ticks - (cpuBase.get(name) ?? ticks)) / clockTicks) * 100) / 100,
        };
      }
      return out;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Direct children of `pid` with their command lines (Linux /proc/<pid>/task/<tid>/children). */
export async function childProcesses(pid: number): Promise<Array<{ pid: number; cmdline: string }>> {
  const out: Array<{ pid: number; cmdline: string }> = [];
  let tasks: string[] = [];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let children = '';
    try {
      children = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number)) {
      try {
        out.push({ pid: child, cmdline: (await readFile(`/proc/${child}/cmdline`, 'utf8')).split('\0').join(' ').trim() });
      } catch {
        // exited meanwhile
      }
    }
  }
  return out;
}
