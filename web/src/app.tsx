/**
 * The shell: navigation, theme choice, the login gate and the page the URL names. Pages
 * load lazily (routes.ts); the shell itself stays small.
 */
import { Suspense, useEffect, useState } from 'react';
import { testIds } from '../../src/contracts/test-ids.ts';
import { onUnauthorized } from './data/api.ts';
import { fetchSession, logout, type SessionState } from './data/auth.ts';
import { Link, matchPath, navigate, useLocation, withQuery } from './router.tsx';
import { LiveBar } from './live-bar.tsx';
import { HOME, routes } from './routes.ts';
import { applyTheme, storedTheme, type Theme } from './theme.ts';

export function App() {
  const location = useLocation();
  const [session, setSession] = useState<SessionState | undefined>();
  const [sessionError, setSessionError] = useState<string | undefined>();

  useEffect(() => {
    fetchSession().then(setSession, (err: Error) => setSessionError(err.message));
  }, []);
  useEffect(
    () =>
      onUnauthorized(() => {
        setSession({ authRequired: true, loggedIn: false });
      }),
    [],
  );

  useEffect(() => {
    if (location.path === '/' || location.path === '') navigate(HOME, { replace: true });
  }, [location.path]);

  useEffect(() => {
    if (session && !session.loggedIn && location.path !== '/login') {
      navigate(withQuery('/login', { next: location.href }), { replace: true });
    }
  }, [session, location.path, location.href]);

  let content;
  if (sessionError) content = <p role="alert">Cannot reach the server: {sessionError}</p>;
  else if (!session) content = <p aria-busy="true">Loading…</p>;
  else content = <CurrentPage path={location.path} />;

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to={HOME} className="brand">
          Patchbay
        </Link>
        <nav aria-label="Main" data-testid={testIds.app.nav}>
          <ul>
            {routes
              .filter((r) => r.nav)
              .map((r) => (
                <li key={r.path}>
                  <Link
                    to={r.path}
                    data-testid={testIds.app.navLink}
                    aria-current={location.path.startsWith(r.nav!.section) ? 'page' : undefined}
                  >
                    {r.nav!.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          {session?.loggedIn && <LiveBar />}
          <ThemePicker />
          {session?.authRequired && session.loggedIn && (
            <button
              type="button"
              data-testid={testIds.app.logout}
              onClick={() => {
                void logout().then(() => setSession({ authRequired: true, loggedIn: false }));
              }}
            >
              Log out
            </button>
          )}
        </div>
      </header>
      <main id="main" data-testid={testIds.app.main} tabIndex={-1}>
        <Suspense fallback={<p aria-busy="true">Loading…</p>}>{content}</Suspense>
      </main>
    </div>
  );
}

function CurrentPage({ path }: { path: string }) {
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) {
      const Page = route.page;
      return <Page params={params} />;
    }
  }
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link to={HOME}>Go to the runs</Link>.
      </p>
    </section>
  );
}

function ThemePicker() {
  const [theme, setTheme] = useState<Theme>(storedTheme);
  return (
    <label className="theme">
      <span className="visually-hidden">Theme</span>
      <select
        value={theme}
        data-testid={testIds.app.themeSelect}
        onChange={(e) => {
          const next = e.target.value as Theme;
          setTheme(next);
          applyTheme(next);
        }}
      >
        <option value="system">System theme</option>
        <option value="light">Light</option>
        <option value="dark">Dark</option>
      </select>
    </label>
  );
}
