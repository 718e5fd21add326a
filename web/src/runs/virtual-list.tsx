/**
 * A virtualized, bottom-following list: only the rows in (and near) the viewport are in the
 * DOM, never more than MAX_ROWS however long the list. Rows may have any height (wrapped log
 * lines, expanded events): each rendered row is measured after layout and the offsets follow.
 * `render` should return memoized elements; a row re-renders only when its item changes.
 */
import { useCallback, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';

export const MAX_ROWS = 240;
const OVERSCAN_PX = 400;

export interface VirtualListProps<T> {
  readonly items: readonly T[];
  /** Changes when items were appended or replaced (the array itself may be reused). */
  readonly version: number;
  readonly keyOf: (item: T) => string | number;
  readonly render: (item: T) => ReactNode;
  /** Height of a row not measured yet. */
  readonly estimate: number;
  /** Stick to the end as items arrive; turned off when the user scrolls up. */
  readonly follow: boolean;
  readonly onFollowChange: (follow: boolean) => void;
  /** Scroll this index into the middle of the view (a permalink), once per change. */
  readonly scrollTo?: number | null | undefined;
  readonly label: string;
  readonly testId?: string;
  readonly className?: string;
}

/** First index whose row ends below `y`. */
function indexAt(offsets: Float64Array, count: number, y: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((offsets[mid + 1] as number) <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, version, keyOf, estimate, follow, onFollowChange } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const rowsRef = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string | number, number>());
  const [measured, setMeasured] = useState(0);
  const [view, setView] = useState({ top: 0, height: 600 });

  const offsets = useMemo(() => {
    const out = new Float64Array(items.length + 1);
    for (let i = 0; i < items.length; i++) {
      const h = heights.current.get(keyOf(items[i] as T)) ?? estimate;
      out[i + 1] = (out[i] as number) + h;
    }
    return out;
    // `version` and `measured` stand for changes inside `items` and `heights`.
  }, [items, version, measured, estimate, keyOf]);
  const total = offsets[items.length] as number;

  // While following, the view is the end, whether or not the scroll event has come yet.
  const top = follow ? Math.max(0, total - view.height) : view.top;
  let start = indexAt(offsets, items.length, Math.max(0, top - OVERSCAN_PX));
  let end = indexAt(offsets, items.length, top + view.height + OVERSCAN_PX) + 1;
  end = Math.min(items.length, end);
  if (end - start > MAX_ROWS) {
    if (follow) start = end - MAX_ROWS;
    else end = start + MAX_ROWS;
  }

  // Measure what was rendered; a changed height moves the rows below it.
  useLayoutEffect(() => {
    const rows = rowsRef.current?.children;
    if (!rows) return;
    let changed = false;
    for (const row of Array.from(rows) as HTMLElement[]) {
      const key = row.dataset.key as string;
      const h = row.offsetHeight;
      const typed = /^\d+$/.test(key) ? Number(key) : key;
      if (h > 0 && heights.current.get(typed) !== h) {
        heights.current.set(typed, h);
        changed = true;
      }
    }
    if (changed) setMeasured((m) => m + 1);
  });

  // Follow the end: after every change while following.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [follow, total]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el || props.scrollTo == null) return;
    const i = Math.min(Math.max(0, props.scrollTo), items.length - 1);
    if (i < 0) return;
    onFollowChange(false);
    el.scrollTop = Math.max(0, (offsets[i] as number) - el.clientHeight / 2);
    setView({ top: el.scrollTop, height: el.clientHeight });
    // Only when the target changes (or first becomes reachable).
  }, [props.scrollTo, items.length > (props.scrollTo ?? Infinity)]);

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const observer = new ResizeObserver(() => {
      heights.current.clear();
      setMeasured((m) => m + 1);
      setView({ top: el.scrollTop, height: el.clientHeight });
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  const frame = useRef(0);
  const onScroll = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const el = scroller.current;
      if (!el) return;
      setView({ top: el.scrollTop, height: el.clientHeight });
      const atEnd = el.scrollTop + el.clientHeight >= el.scrollHeight - estimate * 1.5;
      if (atEnd !== follow) onFollowChange(atEnd);
    });
  }, [estimate, follow, onFollowChange]);

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i++) {
    const item = items[i] as T;
    const key = keyOf(item);
    rows.push(
      <div key={key} data-key={key} className="vrow" style={{ top: offsets[i] }}>
        {props.render(item)}
      </div>,
    );
  }

  return (
    <div
      ref={scroller}
      className={`vlist ${props.className ?? ''}`}
      onScroll={onScroll}
      tabIndex={0}
      role="region"
      aria-label={props.label}
      data-testid={props.testId}
    >
      <div className="vlist-inner" style={{ height: total }} ref={rowsRef}>
        {rows}
      </div>
    </div>
  );
}
