/**
 * Shared set-up of the `connector` command's tests: the secret its dev connector is started with and an
 * inbound frame to inject.
 */

/** The secret the tests start the connector with (--secret); it is never printed. */
export const SECRET = 'connector-cli-secret-9911';

/** An inbound message frame for the tests to inject. */
export const INBOUND = {
  type: 'inbound',
  event: { text: 'hi', source: { platform: 'relay', chat_id: 'c1' } },
};
