import type { TaskRecord, TaskSourceRecord } from '../store/index.js';
import type { SourceItem } from './connectors/types.js';

/** The prompt of a run started from a task: what it is, where it came from, who asked. */
export function taskPrompt(
  task: TaskRecord,
  sources: readonly TaskSourceRecord[],
  instructions?: string,
): string {
  const lines = [`Work on this task from the inbox: ${task.title}`, ''];
  if (task.snippet.trim()) lines.push(task.snippet.trim(), '');
  const from = task.people.filter(
    (p) => ['from', 'author', 'reporter'].includes(p.role) && !p.isUser,
  );
  if (from.length > 0)
    lines.push(`Asked by: ${from.map((p) => p.name ?? p.email ?? p.handle).join(', ')}`);
  if (task.dueAt) lines.push(`Due: ${task.dueAt}`);
  if (task.priority) lines.push(`Priority: ${task.priority}`);
  if (task.labels.length > 0) lines.push(`Labels: ${task.labels.join(', ')}`);
  const links = sources
    .filter((s) => !s.removed)
    .map((s) => s.item as unknown as SourceItem)
    .filter((i) => i.url)
    .map((i) => `- ${i.kind}: ${i.url}`);
  if (links.length > 0) lines.push('', 'Sources:', ...links);
  if (instructions?.trim()) lines.push('', instructions.trim());
  return lines.join('\n');
}
