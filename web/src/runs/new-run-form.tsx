/** Starts a run: a shell command, or a prompt for a coding agent. Opens the run on success. */
import { useState, type FormEvent } from 'react';
import type { AgentName, CreateRunRequest } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api, errorText } from '../data/api.ts';
import { navigate } from '../router.tsx';
import { AGENTS } from './format.ts';

export function NewRunForm({ onClose }: { onClose: () => void }) {
  const [agent, setAgent] = useState<AgentName>('shell');
  const [text, setText] = useState('');
  const [repo, setRepo] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    const body: CreateRunRequest =
      agent === 'shell'
        ? { agent, command: ['sh', '-c', text] }
        : ({ agent, prompt: text } as CreateRunRequest);
    if (repo.trim()) (body as { repo?: string }).repo = repo.trim();
    try {
      const run = await api.createRun(body);
      onClose();
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <form className="toolbar" aria-label="New run" onSubmit={(e) => void submit(e)}>
      <label className="field">
        Agent
        <select value={agent} onChange={(e) => setAgent(e.target.value as AgentName)}>
          {AGENTS.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <label className="field" style={{ flex: '1 1 16rem' }}>
        {agent === 'shell' ? 'Command (sh -c)' : 'Prompt'}
        <textarea
          rows={2}
          required
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid={testIds.runs.newCommand}
        />
      </label>
      <label className="field">
        Repository (optional)
        <input value={repo} size={12} onChange={(e) => setRepo(e.target.value)} />
      </label>
      <button
        type="submit"
        className="primary"
        disabled={busy || !text.trim()}
        data-testid={testIds.runs.newSubmit}
      >
        Start
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
