/**
 * The capability descriptor the dev connector answers a hello with by default: a valid
 * contract_version 1 descriptor advertising every core op plus `follow_up`.
 */
import { CORE_OPS } from '../../core/protocol/actions.js';

/**
 * A valid CapabilityDescriptor for `platform` (max_message_length 2000, chars, markdown), with
 * `overrides` merged last so tests can flip any field (or break it on purpose).
 */
export function defaultDescriptor(
  platform: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    contract_version: 1,
    platform,
    label: `Dev ${platform}`,
    max_message_length: 2000,
    supports_draft_streaming: false,
    supports_edit: true,
    supports_threads: true,
    markdown_dialect: 'markdown',
    len_unit: 'chars',
    emoji: '🔌',
    platform_hint: '',
    supported_ops: [...CORE_OPS, 'follow_up'],
    ...overrides,
  };
}
