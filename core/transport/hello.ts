/**
 * The `hello` frames of a dial (relay contract section 3): one per fronted identity, in
 * configured order, the first being the session default. The Discord application-command
 * manifest rides only on a `discord` hello.
 */
import type { z } from 'zod';
import { HelloFrameSchema } from '../protocol/frames.js';

/** A `hello` frame. */
export type HelloFrame = z.infer<typeof HelloFrameSchema>;

/** The platform whose hello carries `command_manifest`. */
export const MANIFEST_PLATFORM = 'discord';

/** One identity as configured. */
export interface HelloIdentity {
  readonly platform: string;
  readonly botId: string;
}

/** The hellos to send, plus a problem when the manifest had to be left off. */
export interface Hellos {
  readonly frames: HelloFrame[];
  /** Set when `commandManifest` failed its schema and was not sent (issue paths). */
  readonly manifestProblem?: string;
}

/** Build the hellos of one dial. Pure. */
export function helloFrames(
  identities: readonly HelloIdentity[],
  commandManifest?: readonly Readonly<Record<string, unknown>>[],
): Hellos {
  let manifestProblem: string | undefined;
  const frames = identities.map((identity) => {
    const base: HelloFrame = { type: 'hello', platform: identity.platform, botId: identity.botId };
    if (identity.platform !== MANIFEST_PLATFORM || commandManifest === undefined) return base;
    const parsed = HelloFrameSchema.safeParse({ ...base, command_manifest: commandManifest });
    if (parsed.success) return parsed.data;
    // A bad manifest must not cost the connection: send the hello without it and say why.
    manifestProblem = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    return base;
  });
  return manifestProblem === undefined ? { frames } : { frames, manifestProblem };
}
