/**
 * Lookups built once from the loaded manifest: which plugin converts a platform, the inbound chain,
 * the outbound chain of each op, and the schema of every op. Conflicting claims are refused at
 * start rather than resolved by order.
 */
import type { z } from 'zod';
import { RelayError } from '../errors.js';
import { CORE_OPS } from '../protocol/actions.js';
import type { LoadedPlugin } from './plugin-loader.js';

/** The lookups of the enabled plugins (indices into `plugins`, manifest order). */
export class PluginTable {
  /** Platform ⇒ index of the plugin converting it. */
  private readonly converters = new Map<string, number>();
  /** Op ⇒ index of the plugin defining it and its schema. */
  private readonly opSchemas = new Map<string, { index: number; schema: z.ZodType }>();
  /** Op ⇒ outbound chain, memoised (ops are a small, fixed set). */
  private readonly outboundChains = new Map<string, readonly number[]>();
  /** The inbound chain. */
  readonly inboundChain: readonly number[];

  constructor(readonly plugins: readonly LoadedPlugin[]) {
    plugins.forEach((p, index) => {
      for (const platform of p.info.passthrough) {
        const owner = this.converters.get(platform);
        if (owner !== undefined)
          throw conflict(
            `platform "${platform}" is converted by both "${this.name(owner)}" and "${p.info.name}"`,
          );
        this.converters.set(platform, index);
      }
      for (const [op, schema] of Object.entries(p.definition.ops ?? {})) {
        if (CORE_OPS.includes(op)) throw conflict(`plugin "${p.info.name}" redefines the core op "${op}"`);
        const owner = this.opSchemas.get(op);
        if (owner !== undefined)
          throw conflict(`op "${op}" is defined by both "${this.name(owner.index)}" and "${p.info.name}"`);
        this.opSchemas.set(op, { index, schema });
      }
    });
    this.inboundChain = plugins.flatMap((p, i) => (p.info.inbound ? [i] : []));
  }

  /** Name of the plugin at `index`. */
  name(index: number): string {
    return this.plugins[index]?.info.name ?? `#${index}`;
  }

  /** Index of the enabled plugin converting `platform`, if any. */
  converter(platform: string): number | undefined {
    return this.converters.get(platform);
  }

  /** The plugin-defined op `op`: its schema and owner, if an enabled plugin defines it. */
  pluginOp(op: string): { index: number; schema: z.ZodType } | undefined {
    return this.opSchemas.get(op);
  }

  /** Indices of the plugins whose outbound hook runs on `op`, in manifest order. */
  outboundChain(op: string): readonly number[] {
    let chain = this.outboundChains.get(op);
    if (!chain) {
      chain = this.plugins.flatMap((p, i) => {
        const ops = p.info.outboundOps;
        return ops === '*' || ops.includes(op) ? [i] : [];
      });
      // only ops known to the table are memoised, so arbitrary op strings cannot grow the map
      if (CORE_OPS.includes(op) || this.opSchemas.has(op)) this.outboundChains.set(op, chain);
    }
    return chain;
  }

  /** The `timeoutMs` of each plugin of a chain, by position. */
  budgetsOf(chain: readonly number[]): number[] {
    return chain.map((i) => this.plugins[i]?.entry.timeoutMs ?? 0);
  }

  /**
   * The ops listed by the outbound hook of the plugin at `index` that no one defines (neither the
   * core nor an enabled plugin): its hook never runs on them — a typo, or a disabled plugin's op.
   */
  unknownOutboundOps(index: number): string[] {
    const ops = this.plugins[index]?.info.outboundOps;
    if (!ops || ops === '*') return [];
    return ops.filter((op) => !CORE_OPS.includes(op) && !this.opSchemas.has(op));
  }

  /** Every op a caller may send: the core ops and those of enabled plugins. */
  knownOps(): string[] {
    return [...CORE_OPS, ...this.opSchemas.keys()];
  }
}

function conflict(problem: string): RelayError {
  const fix = 'set "enabled": false on one of them in plugins.json, or rename the op in the plugin';
  return new RelayError('CORE_ERR_PLUGIN_CONFLICT', `plugin conflict: ${problem}: ${fix}`);
}
