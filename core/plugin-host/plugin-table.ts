/**
 * Lookups built once from the loaded manifest: which plugin converts a platform, the inbound chain,
 * the outbound chain of each op, and which plugin defines each op (its schema runs in the pool,
 * never here). Conflicting claims are refused at start rather than resolved by order.
 */
import { RelayError } from '../errors.js';
import { CORE_OPS } from '../protocol/actions.js';
import type { LoadedPlugin } from './plugin-loader.js';

/** The lookups of the enabled plugins (indices into `plugins`, manifest order). */
export class PluginTable {
  /** Platform ⇒ index of the plugin converting it. */
  private readonly converters = new Map<string, number>();
  /** Op ⇒ index of the plugin defining it. */
  private readonly opOwners = new Map<string, number>();
  /** Op ⇒ outbound chain, memoised (ops are a small, fixed set). */
  private readonly outboundChains = new Map<string, readonly number[]>();
  /** Plugin op ⇒ its owner then its outbound chain, memoised. */
  private readonly validatedChains = new Map<string, readonly number[]>();
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
      for (const op of p.info.ops) {
        if (CORE_OPS.includes(op)) throw conflict(`plugin "${p.info.name}" redefines the core op "${op}"`);
        const owner = this.opOwners.get(op);
        if (owner !== undefined)
          throw conflict(`op "${op}" is defined by both "${this.name(owner)}" and "${p.info.name}"`);
        this.opOwners.set(op, index);
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

  /** Index of the enabled plugin defining the op `op`, if one does. */
  pluginOp(op: string): number | undefined {
    return this.opOwners.get(op);
  }

  /**
   * The chain of a plugin-defined op's outbound task: its owner first (position 0 runs the op's
   * schema on the agent's action), then the plugins whose outbound hook runs on it.
   */
  validatedChain(op: string): readonly number[] {
    let chain = this.validatedChains.get(op);
    const owner = this.opOwners.get(op);
    if (!chain && owner !== undefined) {
      chain = [owner, ...this.outboundChain(op)];
      this.validatedChains.set(op, chain);
    }
    return chain ?? [];
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
      if (CORE_OPS.includes(op) || this.opOwners.has(op)) this.outboundChains.set(op, chain);
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
    return ops.filter((op) => !CORE_OPS.includes(op) && !this.opOwners.has(op));
  }

  /** Every op a caller may send: the core ops and those of enabled plugins. */
  knownOps(): string[] {
    return [...CORE_OPS, ...this.opOwners.keys()];
  }
}

function conflict(problem: string): RelayError {
  const fix = 'set "enabled": false on one of them in plugins.json, or rename the op in the plugin';
  return new RelayError('CORE_ERR_PLUGIN_CONFLICT', `plugin conflict: ${problem}: ${fix}`);
}
