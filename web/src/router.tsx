/**
 * A tiny router: the URL is the state. The path picks the page; every filter and selection
 * lives in the query string, so any view can be linked and the back button undoes a change.
 */
import {
  useCallback,
  useSyncExternalStore,
  type AnchorHTMLAttributes,
  type MouseEvent,
  type ReactNode,
} from 'react';

const CHANGE = 'patchbay:navigate';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener('popstate', onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

const snapshot = (): string => window.location.pathname + window.location.search;

export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
  /** path + search, as in the address bar */
  readonly href: string;
}

/** The current location; re-renders on every navigation. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, query: url.searchParams, href };
}

/** Goes to `to` (a path with an optional query); `replace` for edits that need no history entry. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event(CHANGE));
}

/** `to` with `changes` applied to its query (null or '' removes a key). */
export function withQuery(
  href: string,
  changes: Readonly<Record<string, string | null | undefined>>,
): string {
  const url = new URL(href, window.location.origin);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === '') url.searchParams.delete(key);
    else url.searchParams.set(key, value);
  }
  const qs = url.searchParams.toString();
  return url.pathname + (qs ? `?${qs}` : '');
}

/**
 * One query parameter as state. Setting it replaces the history entry unless `push`: typing in
 * a filter should not add a back-button step per keystroke.
 */
export function useQueryParam(
  name: string,
): [string, (value: string | null, options?: { push?: boolean }) => void] {
  const { query } = useLocation();
  const value = query.get(name) ?? '';
  const set = useCallback(
    (next: string | null, options: { push?: boolean } = {}) => {
      navigate(withQuery(snapshot(), { [name]: next }), { replace: !options.push });
    },
    [name],
  );
  return [value, set];
}

/** Matches `/runs/:id` against a path; answers the params or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = have[i] as string;
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(actual);
    else if (part !== actual) return null;
  }
  return params;
}

export interface LinkProps extends Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> {
  to: string;
  replace?: boolean;
  children: ReactNode;
}

/** An anchor that navigates in place (a modified click still opens a new tab). */
export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  const handle = (event: MouseEvent<HTMLAnchorElement>): void => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to, { replace: replace ?? false });
  };
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
