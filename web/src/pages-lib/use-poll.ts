import { useEffect } from 'react';

/** Calls `tick` every `ms` while `active` (something on the page is still moving). */
export function usePoll(active: boolean, ms: number, tick: () => void): void {
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(tick, ms);
    return () => window.clearInterval(timer);
  }, [active, ms, tick]);
}
