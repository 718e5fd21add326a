import { randomBytes } from 'node:crypto';

// Crockford base32: sortable, case-insensitive, no ambiguous letters.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function encodeTime(time: number): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function randomDigits(): number[] {
  const bytes = randomBytes(16);
  return Array.from(bytes, (b) => b % 32);
}

/**
 * A ULID: 48-bit millisecond time + 80 random bits, monotonic within one millisecond, so ids
 * sort by creation order. That is what makes `id` a stable pagination cursor.
 */
export function ulid(now = Date.now()): string {
  if (now <= lastTime) {
    // Same (or earlier, after a clock step) millisecond: increment the random part.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      if (lastRandom[i]! < 31) {
        lastRandom[i]!++;
        break;
      }
      lastRandom[i] = 0;
    }
    now = lastTime;
  } else {
    lastTime = now;
    lastRandom = randomDigits();
  }
  return encodeTime(now) + lastRandom.map((d) => ALPHABET[d]).join('');
}

export function newRunId(): string {
  return `run_${ulid()}`;
}

export function newDeliveryId(): string {
  return `dlv_${ulid()}`;
}

export function newRepoId(): string {
  return `repo_${ulid()}`;
}

export function newConversationId(): string {
  return `conv_${ulid()}`;
}

export function newScheduleId(): string {
  return `sched_${ulid()}`;
}

export function newReactionId(): string {
  return `rx_${ulid()}`;
}

export function newReactionAttemptId(): string {
  return `rxa_${ulid()}`;
}

export function newTriggerId(): string {
  return `trg_${ulid()}`;
}
