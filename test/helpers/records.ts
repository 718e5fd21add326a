import { newRunRecord, type NewRunFields, type RunRecord } from '../../src/store/index.js';

/**
 * A queued shell run record for store and engine tests: `fields` go into the new record (its
 * decisions), `overrides` over the result (status, timestamps, owner, id…).
 */
export function testRunRecord(
  fields: Partial<NewRunFields> = {},
  overrides: Partial<RunRecord> = {},
): RunRecord {
  return {
    ...newRunRecord({
      agent: 'shell',
      command: ['true'],
      prompt: null,
      workdir: null,
      env: {},
      pty: false,
      timeoutMs: 1000,
      idleTimeoutMs: 1000,
      maxOutputBytes: 1000,
      outputPolicy: 'kill',
      callbackUrl: null,
      ...fields,
    }),
    ...overrides,
  };
}
