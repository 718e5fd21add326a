/**
 * Pause, resume, interrupt and cancel, each with a key (p, r, i, c: when no text field has the
 * focus). Interrupt and cancel ask first, in a modal dialog.
 */
import { useEffect, useRef, useState } from 'react';
import type { Run } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api, errorText } from '../data/api.ts';
import { isTerminal } from './format.ts';

type Action = 'pause' | 'resume' | 'interrupt' | 'cancel';

const ACTIONS: Record<
  Action,
  { label: string; key: string; confirm?: string; testId: string; enabled: (r: Run) => boolean }
> = {
  pause: {
    label: 'Pause',
    key: 'p',
    testId: testIds.run.pause,
    enabled: (r) => r.status === 'running',
  },
  resume: {
    label: 'Resume',
    key: 'r',
    testId: testIds.run.resume,
    enabled: (r) => r.status === 'paused',
  },
  interrupt: {
    label: 'Interrupt',
    key: 'i',
    confirm: 'Interrupt the agent’s current turn?',
    testId: testIds.run.interrupt,
    enabled: (r) => r.status === 'running' || r.status === 'paused',
  },
  cancel: {
    label: 'Cancel',
    key: 'c',
    confirm: 'Cancel this run? Its process is stopped and the run ends as cancelled.',
    testId: testIds.run.cancel,
    enabled: (r) => !isTerminal(r.status),
  },
};

const CALLS: Record<Action, (id: string) => Promise<Run>> = {
  pause: (id) => api.pauseRun(id),
  resume: (id) => api.resumeRun(id),
  interrupt: (id) => api.interruptRun(id),
  cancel: (id) => api.cancelRun(id),
};

const typing = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export function RunControls({ run, onChanged }: { run: Run; onChanged: (run: Run) => void }) {
  const [asking, setAsking] = useState<Action | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  const perform = async (action: Action): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      onChanged(await CALLS[action](run.id));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const request = (action: Action): void => {
    if (!ACTIONS[action].enabled(run) || busy) return;
    if (ACTIONS[action].confirm) setAsking(action);
    else void perform(action);
  };
  const requestRef = useRef(request);
  requestRef.current = request;

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || dialog.current?.open) return;
      const action = (Object.keys(ACTIONS) as Action[]).find((a) => ACTIONS[a].key === e.key);
      if (action) {
        e.preventDefault();
        requestRef.current(action);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (asking && !d.open) d.showModal();
    if (!asking && d.open) d.close();
  }, [asking]);

  return (
    <div className="controls">
      {(Object.keys(ACTIONS) as Action[]).map((a) => {
        const spec = ACTIONS[a];
        return (
          <button
            key={a}
            type="button"
            className={spec.confirm ? 'danger' : ''}
            disabled={!spec.enabled(run) || busy}
            aria-keyshortcuts={spec.key}
            title={`${spec.label} (${spec.key})`}
            onClick={() => request(a)}
            data-testid={spec.testId}
          >
            {spec.label} <kbd>{spec.key}</kbd>
          </button>
        );
      })}
      {error && (
        <p role="alert" className="error" data-testid={testIds.run.error}>
          {error}
        </p>
      )}
      <dialog
        ref={dialog}
        aria-labelledby="confirm-title"
        data-testid={testIds.run.confirm}
        onClose={() => setAsking(undefined)}
      >
        <p id="confirm-title">{asking ? ACTIONS[asking].confirm : ''}</p>
        <form method="dialog" className="toolbar">
          <button type="submit" value="no" autoFocus>
            Keep running
          </button>
          <button
            type="button"
            className="danger"
            data-testid={testIds.run.confirmYes}
            onClick={() => {
              const action = asking;
              setAsking(undefined);
              if (action) void perform(action);
            }}
          >
            {asking ? ACTIONS[asking].label : ''}
          </button>
        </form>
      </dialog>
    </div>
  );
}
