import type { LiveEvent } from '../contracts/index.js';
import type { DomainEvents } from './domain-events.js';
import type { Broadcast } from './event-bus.js';

type Listener = (event: LiveEvent) => void;

/**
 * The engine's domain events as the live feed shows them (`GET /v1/events`): one LiveEvent per
 * run transition, stamped when this process announced it. Returns the unsubscribe.
 */
export function onLiveEvents(events: Pick<DomainEvents, 'on'>, listener: Listener): () => void {
  const at = (): string => new Date().toISOString();
  const simple = ['runCreated', 'runStarted', 'runPaused', 'runResumed'] as const;
  const offs = [
    ...simple.map((type) => events.on(type, ({ run }) => listener({ type, at: at(), run }))),
    events.on('runRequeued', ({ run, reason }) =>
      listener({ type: 'runRequeued', at: at(), run, reason }),
    ),
    events.on('runFinished', ({ run }) => listener({ type: 'runFinished', at: at(), run })),
    events.on('proposalCreated', ({ run, optimizationId }) =>
      listener({ type: 'proposalCreated', at: at(), run, optimizationId }),
    ),
  ];
  return () => offs.forEach((off) => off());
}

interface Relayed {
  from: string;
  event: LiveEvent;
}

/**
 * With scale-out, a run moves wherever a worker takes it, and each process announces only its
 * own transitions. Every process (API node or worker) therefore sends its live events on the
 * bus's broadcast channel, and each API node's feed relays the others' (`onRemoteLiveEvents`).
 * Fire and forget: a feed client that reconnects re-reads the store, as with any gap.
 */
export function relayLiveEvents(
  events: Pick<DomainEvents, 'on'>,
  broadcast: Broadcast,
  instanceId: string,
): () => void {
  return onLiveEvents(events, (event) =>
    broadcast.send(JSON.stringify({ from: instanceId, event } satisfies Relayed)),
  );
}

/** The live events other processes relayed (our own come back too, and are skipped). */
export function onRemoteLiveEvents(
  broadcast: Broadcast,
  instanceId: string,
  listener: Listener,
): () => void {
  return broadcast.listen((message) => {
    let relayed: Partial<Relayed>;
    try {
      relayed = JSON.parse(message) as Partial<Relayed>;
    } catch {
      return;
    }
    if (relayed.from !== instanceId && relayed.event) listener(relayed.event);
  });
}
