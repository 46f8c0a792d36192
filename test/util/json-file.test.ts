// Strict, located JSON for data files: every refusal must say file:line:column, and no
// number may reach the caller rounded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import { formatJsonPath, parseJson, parseJsonLocated, readJsonFile, readJsonLocated } from '../../src/util/json-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-json-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The MpcError that `f` throws (the test fails if it throws nothing or something else). */
function thrown(f: () => unknown): MpcError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    return e as MpcError;
  }
  throw new Error('expected an error');
}

const located = (text: string) => parseJsonLocated(text, 'd.json', ErrorCode.INPUT);
const message = (text: string) => thrown(() => located(text)).message;

describe('readJsonLocated', () => {
  it('reads a file and locates values by path', () => {
    const file = write('ok.json', '{\n  "p1": {\n    "x": [1, 2,\n          "9007199254740993"]\n  }\n}\n');
    const { value, locate } = readJsonLocated(file, ErrorCode.INPUT);
    expect(value).toEqual({ p1: { x: [1, 2, '9007199254740993'] } });
    expect(locate([])).toEqual({ line: 1, column: 1 });
    expect(locate(['p1'])).toEqual({ line: 2, column: 9 });
    expect(locate(['p1', 'x', 0])).toEqual({ line: 3, column: 11 });
    expect(locate(['p1', 'x', 2])).toEqual({ line: 4, column: 11 });
    expect(locate(['p1', 'y'])).toBeUndefined();
    expect(locate(['p1', 'x', 3])).toBeUndefined();
    expect(locate(['p1', 'x', 'a'])).toBeUndefined();
  });

  it('locates the last of repeated keys, the one JSON.parse keeps', () => {
    const doc = located('{"a": 1,\n "a": 2}');
    expect(doc.value).toEqual({ a: 2 });
    expect(doc.locate(['a'])).toEqual({ line: 2, column: 7 });
  });

  it('keeps "__proto__" an own property', () => {
    const doc = located('{"__proto__": {"x": 1}}');
    expect(Object.hasOwn(doc.value as object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('reports a syntax error at its line and column', () => {
    expect(message('{\n  "a": 1\n  "b": 2\n}')).toBe(`d.json:3:3: invalid JSON: expected ',' or a closing bracket`);
    expect(message('[1, 2')).toMatch(/^d\.json:1:6: invalid JSON: /);
    expect(message('{"a": tru}')).toBe('d.json:1:7: invalid JSON: unexpected "tru"');
    expect(message('')).toBe('d.json:1:1: invalid JSON: unexpected end of file, expected a value');
    expect(message('[1]\n[2]')).toBe('d.json:2:1: invalid JSON: unexpected text after the end of the JSON value');
    expect(message('"abc')).toBe('d.json:1:1: invalid JSON: unterminated string');
    expect(message("{'a': 1}")).toMatch(/^d\.json:1:2: invalid JSON: unexpected "'a'"/);
    expect(message('[NaN]')).toMatch(/^d\.json:1:2: invalid JSON: /);
    expect(message('[01]')).toMatch(/^d\.json:1:3: invalid JSON: /);
  });

  it('refuses comments and trailing commas', () => {
    expect(message('// note\n[1]')).toBe('d.json:1:1: invalid JSON: comments are not allowed in JSON');
    expect(message('[1, /* two */ 2]')).toBe('d.json:1:5: invalid JSON: comments are not allowed in JSON');
    expect(message('{\n  "a": 1,\n}')).toBe('d.json:3:1: invalid JSON: trailing comma (not allowed in JSON)');
    expect(message('[1, 2, ]')).toBe('d.json:1:8: invalid JSON: trailing comma (not allowed in JSON)');
  });

  it('refuses a bare integer beyond 2^53 at its position, naming the decimal string to write', () => {
    const m = message('{\n  "p1": {"x": [1,\n     9007199254740993]}\n}');
    expect(m).toBe(
      'd.json:3:6: p1.x[1]: the integer 9007199254740993 is beyond ±2^53, where JSON numbers lose precision; ' +
        'write it as a decimal string ("9007199254740993")',
    );
    // JSON.parse would have read exactly this: 2^53, off by one.
    expect(JSON.parse('9007199254740993')).toBe(2 ** 53);
    expect(message('-9223372036854775808')).toMatch(/^d\.json:1:1: the integer -9223372036854775808 is beyond ±2\^53.*\("-9223372036854775808"\)$/);
    expect(message('[1.5e20]')).toMatch(/^d\.json:1:2: \[0\]: the integer 1\.5e20 .*\("150000000000000000000"\)$/);
    expect(message('[1e300]')).toMatch(/the number 1e300 is beyond ±2\^53/);
  });

  it('refuses a fraction that JSON.parse rounds to an integer', () => {
    expect(JSON.parse('9007199254740990.5')).toBe(9007199254740990);
    expect(message('{"x": 9007199254740990.5}')).toBe(
      'd.json:1:7: x: the number 9007199254740990.5 is not an integer, but JSON parsers round it to the integer 9007199254740990; write the intended value exactly',
    );
    expect(message('[1e-400]')).toMatch(/round it to the integer 0/);
  });

  it('accepts numbers that are exact, whatever their spelling', () => {
    expect(located('[9007199254740992, -9007199254740992, 1.0, 1.5, 1e3, 2.5E1, -0, 0.1, 1e-3]').value).toEqual([
      2 ** 53, -(2 ** 53), 1, 1.5, 1000, 25, -0, 0.1, 0.001,
    ]);
  });

  it('prefers a syntax error to a number error, and ignores a byte-order mark', () => {
    expect(message('[9007199254740993,]')).toMatch(/trailing comma/);
    expect(located('\ufeff[1]').value).toEqual([1]);
  });

  it('names an unreadable file', () => {
    expect(thrown(() => readJsonLocated(join(dir, 'missing.json'), ErrorCode.INPUT)).message).toBe(`${join(dir, 'missing.json')}: cannot read: ENOENT`);
    expect(thrown(() => readJsonLocated(join(dir, 'missing.json'), ErrorCode.CONFIG)).code).toBe(ErrorCode.CONFIG);
  });
});

describe('formatJsonPath', () => {
  it('writes paths as a person reads them', () => {
    expect(formatJsonPath(['p1', 'x', 3])).toBe('p1.x[3]');
    expect(formatJsonPath([0, 'amount'])).toBe('[0].amount');
    expect(formatJsonPath(['odd key'])).toBe('["odd key"]');
    expect(formatJsonPath([])).toBe('');
  });
});

describe('parseJson / readJsonFile (unchanged)', () => {
  it('still parses plainly and locates syntax errors', () => {
    expect(parseJson('{"a": 1}', 'c.json', ErrorCode.CONFIG)).toEqual({ a: 1 });
    expect(thrown(() => parseJson('{\n  "a": }', 'c.json', ErrorCode.CONFIG)).message).toMatch(/^c\.json:2:8: invalid JSON: /);
    expect(readJsonFile(write('plain.json', '[1, 2]'), ErrorCode.CONFIG)).toEqual([1, 2]);
  });
});
