/** The next message of a conversation: starts its next run and opens it. */
import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api, errorText } from '../data/api.ts';
import { navigate } from '../router.tsx';

export function FollowUp({
  conversationId,
  disabled,
}: {
  conversationId: string;
  disabled: boolean;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    try {
      const run = await api.postMessage(conversationId, { prompt: text.trim() });
      setText('');
      navigate(`/runs/${encodeURIComponent(run.id)}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="follow-up" onSubmit={(e) => void submit(e)} aria-label="Follow-up message">
      <label htmlFor="follow-up-text">Follow-up message</label>
      <textarea
        id="follow-up-text"
        rows={3}
        value={text}
        onChange={(e) => setText(e.target.value)}
        data-testid={testIds.run.followUp}
        placeholder={
          disabled ? 'The conversation’s current run must end first' : 'Ask for the next change'
        }
      />
      <button
        type="submit"
        className="primary"
        disabled={busy || disabled || !text.trim()}
        data-testid={testIds.run.followUpSend}
      >
        Send
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
