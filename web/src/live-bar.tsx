/**
 * In the shell while signed in: keeps the live feed open (data/live.ts), shows its state, and
 * raises the optional browser notification when a run ends or waits (paused), on any page.
 */
import { testIds } from '../../src/contracts/test-ids.ts';
import { useLiveEvents, useLiveStatus, type LiveState } from './data/live.ts';
import { notifyRun } from './runs/notify.ts';

const TEXT: Record<LiveState, string> = {
  idle: 'not following',
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  stopped: 'not live',
};

export function LiveBar() {
  useLiveEvents(
    (e) => {
      if (e.type === 'runFinished' || e.type === 'runPaused') {
        const what = e.type === 'runPaused' ? 'is paused' : e.run.status.replace('_', ' ');
        notifyRun(`Run ${what}`, e.run.id, `${e.run.id}:${e.run.status}`);
      }
    },
    () => undefined,
  );
  const live = useLiveStatus();
  const polling = live.state !== 'live' || !live.complete;
  let text = TEXT[live.state];
  if (live.state === 'reconnecting' && live.attempt > 0) text += ` (attempt ${live.attempt})`;
  if (live.state === 'live' && !live.complete) text = 'live (this server only)';
  return (
    <span
      className={`stream stream-${live.state === 'stopped' ? 'error' : live.state}`}
      data-testid={testIds.app.liveState}
      data-state={live.state}
      data-polling={polling ? '1' : '0'}
      role="status"
      title={
        polling
          ? 'Lists are re-read every 30 s while updates cannot be followed live'
          : 'Lists update as runs change'
      }
    >
      ● {text}
    </span>
  );
}
