/**
 * The live log: virtualized rows with ANSI colours, a wrap toggle, server-side search whose
 * results are `?line=` permalinks, copy and download of the raw output, and "jump to live"
 * when scrolled up from the end.
 */
import { memo, useCallback, useState } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { useLocation, useQueryParam, withQuery } from '../router.tsx';
import { renderAnsi } from './ansi.tsx';
import type { EventStore, LogLine } from './event-store.ts';
import { LogSearch } from './log-search.tsx';
import { VirtualList } from './virtual-list.tsx';

const ROW = 20;

const LogRow = memo(function LogRow({ line, active }: { line: LogLine; active: boolean }) {
  return (
    <div
      className={`log-row${line.stream === 'stderr' ? ' stderr' : ''}${active ? ' active' : ''}`}
      data-testid={testIds.log.row}
      data-line={line.n}
    >
      <span className="log-n" aria-hidden="true">
        {line.n}
      </span>
      <span className="log-text">{renderAnsi(line.text)}</span>
    </div>
  );
});

export function LogView(props: {
  runId: string;
  store: EventStore;
  version: number;
  live: boolean;
}) {
  const { store, version, runId } = props;
  const location = useLocation();
  const [wrap, setWrap] = useQueryParam('wrap');
  const [lineParam] = useQueryParam('line');
  const line = Number(lineParam) || null;
  const [follow, setFollow] = useState(line === null);
  const [copied, setCopied] = useState(false);

  const keyOf = useCallback((l: LogLine) => l.n, []);
  const render = useCallback((l: LogLine) => <LogRow line={l} active={l.n === line} />, [line]);

  const copy = async (): Promise<void> => {
    await navigator.clipboard.writeText(store.rawText());
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  const download = (): void => {
    const url = URL.createObjectURL(new Blob([store.rawText()], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `run-${runId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  return (
    <div className="log">
      <div className="toolbar">
        <LogSearch
          runId={runId}
          store={store}
          lineHref={(n) => withQuery(location.href, { line: String(n) })}
        />
        <label className="check">
          <input
            type="checkbox"
            checked={wrap === '1'}
            onChange={(e) => setWrap(e.target.checked ? '1' : null)}
            data-testid={testIds.log.wrap}
          />
          Wrap lines
        </label>
        <button type="button" onClick={() => void copy()} data-testid={testIds.log.copy}>
          {copied ? 'Copied' : 'Copy'}
        </button>
        <button type="button" onClick={download} data-testid={testIds.log.download}>
          Download
        </button>
        <span className="muted" data-testid={testIds.log.count} data-count={store.lines.length}>
          {store.lines.length.toLocaleString()} lines
        </span>
      </div>
      <div className="log-frame">
        <VirtualList
          items={store.lines}
          version={version}
          keyOf={keyOf}
          render={render}
          estimate={ROW}
          follow={follow}
          onFollowChange={setFollow}
          scrollTo={line === null ? null : line - 1}
          label="Run log"
          testId={testIds.log.view}
          className={`log-lines mono${wrap === '1' ? ' wrap' : ''}`}
        />
        {!follow && (
          <button
            type="button"
            className="jump primary"
            data-testid={testIds.log.jumpToLive}
            onClick={() => setFollow(true)}
          >
            {props.live ? 'Jump to live' : 'Jump to end'}
          </button>
        )}
      </div>
    </div>
  );
}
