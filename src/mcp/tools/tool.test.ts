import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isPatchbayError } from '../../contracts/index.js';
import { patchbayTools } from './index.js';
import { createToolRegistry, defineTool, inputJsonSchema, parseArguments } from './tool.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isPatchbayError(err) ? err.code : String(err);
  }
  return undefined;
};

describe('the MCP tool registry', () => {
  it('offers every tool, or in read-only mode only those that change nothing', () => {
    const all = createToolRegistry(patchbayTools, { readOnly: false });
    expect(all.list()).toHaveLength(patchbayTools.length);
    const readOnly = createToolRegistry(patchbayTools, { readOnly: true });
    expect(readOnly.list().every((t) => !t.mutates)).toBe(true);
    expect(readOnly.list().map((t) => t.name)).toContain('wait_for_run');
    expect(codeOf(() => readOnly.get('start_run'))).toBe('MCP_TOOL_READ_ONLY');
    expect(readOnly.get('get_run').name).toBe('get_run');
    expect(codeOf(() => all.get('nope'))).toBe('MCP_TOOL_NOT_FOUND');
  });

  it('refuses two tools with one name', () => {
    const tool = defineTool({
      name: 'twice',
      title: 'Twice',
      description: 'd',
      input: z.object({}),
      mutates: false,
      call: async () => ({}),
    });
    expect(() => createToolRegistry([tool, tool], { readOnly: false })).toThrow(/twice/);
  });

  it('every tool has a snake_case name and an object JSON Schema for its arguments', () => {
    for (const tool of patchbayTools) {
      expect(tool.name).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(inputJsonSchema(tool.input).type).toBe('object');
    }
  });

  it('parses arguments into VALIDATION_FAILED with the offending fields', () => {
    const schema = z.object({ id: z.string(), limit: z.number().int().default(5) }).strict();
    expect(parseArguments(schema, { id: 'a' })).toEqual({ id: 'a', limit: 5 });
    try {
      parseArguments(schema, { limit: 'x', extra: 1 });
      expect.unreachable();
    } catch (err) {
      expect(isPatchbayError(err) && err.code).toBe('VALIDATION_FAILED');
      const fields = (err as { details: { fields: { path: string }[] } }).details.fields;
      expect(fields.map((f) => f.path).sort()).toEqual(['(root)', 'id', 'limit']);
    }
  });
});
