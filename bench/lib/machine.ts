/** The machine a run happened on, for the report: cores, CPU model, node, memory, load. */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** A description of the machine. */
export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly memGiB: number;
  readonly platform: string;
  /** 1/5/15-minute load averages at the time of the call. */
  readonly loadavg: readonly number[];
}

/** Describe this machine now. */
export function machineInfo(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    memGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
