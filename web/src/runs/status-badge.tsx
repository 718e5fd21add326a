import type { RunStatus } from '../../../src/contracts/index.js';
import { statusClass } from './format.ts';

export function StatusBadge({ status, testId }: { status: RunStatus; testId?: string }) {
  return (
    <span className={`badge ${statusClass(status)}`} data-testid={testId} data-status={status}>
      {status.replace('_', ' ')}
    </span>
  );
}
