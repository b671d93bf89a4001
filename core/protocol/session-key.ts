/**
 * Session keys (relay contract section 4): what the agent and `follow_up` use to name a
 * conversation. Pure; checked against every row of `fixtures/session-keys.json`.
 */

/** The source fields the key depends on. */
export interface SessionSource {
  readonly platform: string;
  readonly chat_type?: string | null;
  readonly chat_id?: string | null;
  readonly thread_id?: string | null;
  readonly prospective_thread_id?: string | null;
  readonly user_id?: string | null;
  readonly user_id_alt?: string | null;
  readonly scope_id?: string | null;
  readonly profile?: string | null;
}

/** Per-user shaping of session keys. */
export interface SessionKeyOptions {
  /** Non-DM without a thread: one session per participant. Default true. */
  readonly groupSessionsPerUser?: boolean;
  /** In a thread: one session per participant. Default false. */
  readonly threadSessionsPerUser?: boolean;
}

/** The namespace for a profile: `agent:main`, `agent:main~` (profile "main") or `agent:<profile>`. */
export function sessionNamespace(profile: string | null | undefined): string {
  if (!profile || profile === 'default') return 'agent:main';
  if (profile === 'main') return 'agent:main~';
  return `agent:${profile}`;
}

/** The profile a session key belongs to (inverse of {@link sessionNamespace}); undefined for main. */
export function profileOfSessionKey(sessionKey: string): string | undefined {
  const [agent, ns] = sessionKey.split(':');
  if (agent !== 'agent' || !ns || ns === 'main') return undefined;
  return ns === 'main~' ? 'main' : ns;
}

/** Compute the session key of a message source. */
export function sessionKey(source: SessionSource, options: SessionKeyOptions = {}): string {
  const perUserGroup = options.groupSessionsPerUser ?? true;
  const perUserThread = options.threadSessionsPerUser ?? false;
  const chatType = source.chat_type || 'dm';
  const chatId = source.chat_id ?? '';
  const participant = source.user_id_alt || source.user_id || '';
  let slot = chatType;
  let tail: string[];
  if (chatType === 'dm') {
    const thread = source.thread_id ?? '';
    tail = [chatId === '' ? participant : '', thread];
  } else {
    let thread = source.thread_id ?? '';
    if (!thread && source.prospective_thread_id) {
      thread = source.prospective_thread_id;
      slot = 'thread';
    }
    const perUser = thread ? perUserThread : perUserGroup;
    tail = [thread, perUser ? participant : ''];
  }
  const scope = source.platform === 'slack' ? (source.scope_id ?? '') : '';
  return [sessionNamespace(source.profile), source.platform, slot, scope, chatId, ...tail]
    .filter((segment) => segment !== '')
    .join(':');
}
