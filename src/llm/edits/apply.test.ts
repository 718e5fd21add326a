import { describe, expect, it } from 'vitest';
import { applyEdit } from './index.js';
import type { EditApplied, EditFailure, EditResult } from './types.js';

function applied(r: EditResult): EditApplied {
  if (!r.ok) throw new Error(`expected an applied edit, got ${r.code}: ${r.message}`);
  return r;
}

function failed(r: EditResult): EditFailure {
  if (r.ok) throw new Error(`expected a failure, got an edit by ${r.matchedBy}`);
  return r;
}

const SOURCE = [
  'export function greet(name) {',
  '  if (!name) {',
  "    return 'hello';",
  '  }',
  '  return `hello ${name}`;',
  '}',
  '',
].join('\n');

describe('applyEdit: exact', () => {
  it('replaces a unique fragment and reports its line', () => {
    const r = applied(applyEdit(SOURCE, { oldText: "return 'hello';", newText: "return 'hi';" }));
    expect(r).toMatchObject({ matchedBy: 'exact', line: 3, replacements: 1 });
    expect(r.content).toBe(SOURCE.replace("'hello'", "'hi'"));
  });

  it('wins over looser places elsewhere', () => {
    // `  x = 1;` once exactly; `x = 1;` at another indentation and `x = "1"` loosely too.
    const content = 'a();\n  x = 1;\n    x = 1;\nx = "1";\n';
    const r = applied(
      applyEdit(content, { oldText: '  x = 1;\n    x', newText: '  x = 2;\n    x' }),
    );
    expect(r).toMatchObject({ matchedBy: 'exact', line: 2 });
    expect(r.content).toBe('a();\n  x = 2;\n    x = 1;\nx = "1";\n');
  });

  it('refuses two exact places, naming both lines and what to do', () => {
    const r = failed(applyEdit('f(1);\ng();\nf(1);\n', { oldText: 'f(1);', newText: 'f(2);' }));
    expect(r.code).toBe('EDIT_AMBIGUOUS');
    expect(r.candidates?.map((c) => c.line)).toEqual([1, 3]);
    expect(r.message).toMatch(/2 places exactly \(lines 1, 3\)/);
    expect(r.message).toMatch(/more surrounding lines/);
  });

  it('replaces every place with replaceAll', () => {
    const r = applied(
      applyEdit('f(1);\ng();\nf(1);\n', { oldText: 'f(1)', newText: 'f(2)', replaceAll: true }),
    );
    expect(r).toMatchObject({ replacements: 2, line: 1 });
    expect(r.content).toBe('f(2);\ng();\nf(2);\n');
  });
});

describe('applyEdit: the ladder', () => {
  it('ignores trailing whitespace on either side', () => {
    const content = 'a = 1;   \nb = 2;\n';
    const r = applied(
      applyEdit(content, { oldText: 'a = 1;\nb = 2;  ', newText: 'a = 3;\nb = 4;' }),
    );
    expect(r.matchedBy).toBe('trailing-whitespace');
    expect(r.content).toBe('a = 3;\nb = 4;\n');
  });

  it('ignores indentation and re-indents newText by the shift', () => {
    const r = applied(
      applyEdit(SOURCE, {
        oldText: "if (!name) {\n  return 'hello';\n}",
        newText: "if (!name) {\n  log('empty');\n  return 'hello';\n}",
      }),
    );
    expect(r).toMatchObject({ matchedBy: 'indentation', line: 2 });
    expect(r.content).toBe(
      SOURCE.replace("    return 'hello';", "    log('empty');\n    return 'hello';"),
    );
  });

  it('turns spaces into the tabs of a tab-indented file', () => {
    const content = 'function f() {\n\tif (x) {\n\t\ty();\n\t}\n}\n';
    const r = applied(
      applyEdit(content, {
        oldText: '    if (x) {\n        y();\n    }',
        newText: '    if (x) {\n        y();\n        z();\n    }',
      }),
    );
    expect(r.matchedBy).toBe('indentation');
    expect(r.content).toBe('function f() {\n\tif (x) {\n\t\ty();\n\t\tz();\n\t}\n}\n');
  });

  it('turns tabs into the spaces of a space-indented file', () => {
    const r = applied(
      applyEdit(SOURCE, {
        oldText: "\tif (!name) {\n\t\treturn 'hello';",
        newText: "\tif (name === '') {\n\t\treturn 'hello';",
      }),
    );
    expect(r.content).toBe(SOURCE.replace('if (!name)', "if (name === '')"));
  });

  it('maps typographic quotes, dashes, ellipsis and non-breaking spaces', () => {
    const content = '// wait -- really...\nsay(\'it\' + "s");\n';
    const r = applied(
      applyEdit(content, {
        oldText: '// wait \u2014- really\u2026\nsay(\u2018it\u2019\u00A0+ \u201Cs\u201D);',
        newText: "// done\nsay('done');",
      }),
    );
    expect(r.matchedBy).toBe('unicode-punctuation');
    expect(r.content).toBe("// done\nsay('done');\n");
  });

  it('folds \' into " as the last rung', () => {
    const r = applied(applyEdit(SOURCE, { oldText: 'return "hello";', newText: 'return "hi";' }));
    expect(r).toMatchObject({ matchedBy: 'quote-style', line: 3 });
    expect(r.content).toBe(SOURCE.replace("return 'hello';", 'return "hi";'));
  });

  it('anchors leading and trailing whitespace the model wrote to line edges', () => {
    // "  b" must start a line: "ab" in the middle of a line is no match.
    const r = failed(applyEdit('xab;\n', { oldText: '  b;', newText: '  c;' }));
    expect(r.code).toBe('EDIT_NO_MATCH');
  });
});

describe('applyEdit: ambiguity at every rung', () => {
  const cases: [string, string, string, number[]][] = [
    ['trailing-whitespace', 'a();  \nb();\na(); \n', 'a();   ', [1, 3]],
    ['indentation', '  a();\n    a();\n', '\ta();', [1, 2]],
    ['unicode-punctuation', "s('x');\n  s('x');\n", 's(\u2018x\u2019);', [1, 2]],
    ['quote-style', "s('x');\n  s('x');\n", 's("x");', [1, 2]],
  ];
  for (const [kind, content, oldText, lines] of cases) {
    it(`refuses two places ${kind}`, () => {
      const r = failed(applyEdit(content, { oldText, newText: 'z();' }));
      expect(r.code).toBe('EDIT_AMBIGUOUS');
      expect(r.candidates?.map((c) => [c.line, c.matchedBy])).toEqual(lines.map((l) => [l, kind]));
    });
  }

  it('refuses a unique tolerant match when the loosest rung sees another place', () => {
    // Ignoring indentation only line 1 matches; line 2 differs from it only by quote style.
    const content = '  s(\'x\');\ns("x");\n';
    const r = failed(applyEdit(content, { oldText: "\ts('x');", newText: 'z();' }));
    expect(r.code).toBe('EDIT_AMBIGUOUS');
    expect(r.message).toMatch(/Ignoring indentation it matches line 1, but .* 2 places/);
    expect(r.candidates?.map((c) => c.line)).toEqual([1, 2]);
  });
});

describe('applyEdit: refusals and files', () => {
  it('refuses an empty oldText', () => {
    expect(failed(applyEdit(SOURCE, { oldText: '', newText: 'x' })).code).toBe('EDIT_EMPTY');
  });

  it('refuses oldText equal to newText', () => {
    const r = applyEdit(SOURCE, { oldText: '}', newText: '}' });
    expect(failed(r).code).toBe('EDIT_UNCHANGED');
  });

  it('refuses a missing text and says where its first line is', () => {
    const r = failed(applyEdit(SOURCE, { oldText: "if (!name) {\n  return 'bye';", newText: 'x' }));
    expect(r.code).toBe('EDIT_NO_MATCH');
    expect(r.message).toMatch(/first line alone appears at line 2/);
  });

  it('points out line numbers copied into oldText', () => {
    const r = failed(applyEdit(SOURCE, { oldText: "3: return 'hello';", newText: 'x' }));
    expect(r.message).toMatch(/line numbers/);
  });

  it('keeps CRLF line endings and writes newText with them', () => {
    const content = 'a();\r\nb();\r\nc();\r\n';
    const r = applied(applyEdit(content, { oldText: 'a();\nb();', newText: 'a();\nx();\ny();' }));
    expect(r.matchedBy).toBe('exact');
    expect(r.content).toBe('a();\r\nx();\r\ny();\r\nc();\r\n');
  });

  it('keeps a missing trailing newline missing and touches nothing else', () => {
    const content = 'a();  \n\tb();\nc();';
    const r = applied(applyEdit(content, { oldText: 'c();', newText: 'd();' }));
    expect(r.content).toBe('a();  \n\tb();\nd();');
  });
});
