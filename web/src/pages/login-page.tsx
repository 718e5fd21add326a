/** Trades an API token for a session cookie, then goes back where the user was headed. */
import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { login } from '../data/auth.ts';
import { useLocation } from '../router.tsx';

export default function LoginPage() {
  const { query } = useLocation();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const next = query.get('next');
  // Only a path on this origin: `next` must not send the user elsewhere after login.
  const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/';

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    const failure = await login(token.trim()).catch((err: Error) => err.message);
    setBusy(false);
    if (failure) setError(failure);
    // A full load: the app starts again with the new session.
    else window.location.assign(target);
  };

  return (
    <section className="login">
      <h1>Log in</h1>
      <p>This server requires an API token. The browser keeps a session cookie, not the token.</p>
      <form onSubmit={(e) => void submit(e)} data-testid={testIds.login.form}>
        <label htmlFor="login-token">API token</label>
        <input
          id="login-token"
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onChange={(e) => setToken(e.target.value)}
          data-testid={testIds.login.token}
        />
        <button
          type="submit"
          disabled={busy || token.trim() === ''}
          data-testid={testIds.login.submit}
        >
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {error && (
          <p role="alert" className="error" data-testid={testIds.login.error}>
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
