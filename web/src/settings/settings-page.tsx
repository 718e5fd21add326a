import { testIds } from '../../../src/contracts/test-ids.ts';
import { useResource } from '../data/use-resource.ts';
import type { EffectiveSetting } from '../../../src/contracts/index.js';
import { api } from '../data/api.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { useQueryParam } from '../router.tsx';
import '../pages-lib/pages.css';

const ids = testIds.settings;

/**
 * `/settings`: the configuration in effect, read-only, secrets masked by the server. `?q=`
 * filters by name, variable or description; `?changed=1` shows only values set away from
 * their default.
 */
export default function SettingsPage() {
  const [q, setQ] = useQueryParam('q');
  const [changed, setChanged] = useQueryParam('changed');
  const list = useResource('settings', () => api.getSettings());
  const needle = q.trim().toLowerCase();
  const rows = (list.data?.settings ?? []).filter(
    (s) =>
      (!needle ||
        s.key.toLowerCase().includes(needle) ||
        s.env.toLowerCase().includes(needle) ||
        s.description.toLowerCase().includes(needle)) &&
      (changed !== '1' || isChanged(s)),
  );
  return (
    <section>
      <h1>Settings</h1>
      <p className="muted">
        Read-only: set them with <span className="mono">PATCHBAY_*</span> variables, the config file
        or flags, and restart. Secrets are never shown.
      </p>
      <div className="filters">
        <label>
          Filter{' '}
          <input
            type="search"
            data-testid={ids.filter}
            value={q}
            onChange={(e) => setQ(e.target.value || null)}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={changed === '1'}
            onChange={(e) => setChanged(e.target.checked ? '1' : null)}
          />{' '}
          only changed from the default
        </label>
      </div>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Effective configuration">
        <table data-testid={ids.table} className="settings-table">
          <caption className="visually-hidden">Effective configuration</caption>
          <thead>
            <tr>
              <th scope="col">variable</th>
              <th scope="col">value</th>
              <th scope="col">default</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((s) => (
              <tr key={s.key} data-testid={ids.row} data-secret={s.secret || undefined}>
                <th scope="row">
                  <span className="mono">{s.env}</span>
                  <div className="muted setting-desc">{s.description}</div>
                </th>
                <td className="mono setting-value">{show(s.value)}</td>
                <td className="mono muted">{s.defaultText}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && rows.length === 0 ? <p className="muted">No setting matches.</p> : null}
    </section>
  );
}

function show(value: unknown): string {
  if (value === null || value === undefined) return '(unset)';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

function isChanged(s: EffectiveSetting): boolean {
  const shown = show(s.value);
  return shown !== '(unset)' && shown !== s.defaultText && `\`${shown}\`` !== s.defaultText;
}
