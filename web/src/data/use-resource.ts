import { useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from './api.ts';

export interface Resource<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  /** Loads again, keeping the current data on screen meanwhile. */
  readonly reload: () => void;
  /** Changes the data on screen in place (a live update), without loading. */
  readonly update: (change: (data: T) => T) => void;
}

/**
 * Loads `load()` whenever `key` changes (a string built from what the load depends on, such
 * as the URL's filters). A slower earlier answer never overwrites a later one.
 */
export function useResource<T>(key: string, load: () => Promise<T>): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => current && setState({ data, loading: false }),
      (err: unknown) =>
        current && setState((s) => ({ ...s, error: errorText(err), loading: false })),
    );
    return () => {
      current = false;
    };
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const update = useCallback(
    (change: (data: T) => T) =>
      setState((s) => (s.data === undefined ? s : { ...s, data: change(s.data) })),
    [],
  );
  return { data: state.data, error: state.error, loading: state.loading, reload, update };
}
