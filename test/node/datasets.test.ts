// Datasets and inputs files: a good file first, then one defect at a time. Every refusal
// must name the file and the line (and, for JSON, the column), the input and the element,
// and no value may come back rounded.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, MpcError } from '../../src/errors.ts';
import { loadDataset, loadDatasets } from '../../src/node/datasets.ts';
import { checkInputsFile, loadInputsFile } from '../../src/protocol/inputs-file.ts';
import { circuit } from '../../src/circuit/index.ts';
import { compileLoaded } from '../../src/compiler/load.ts';
import { encodeIntVector } from '../../src/ring/encoding.ts';
import type { DatasetConfig } from '../../src/security/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-datasets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** Write `text` to a fresh file; returns its absolute path. */
function write(ext: string, text: string): string {
  const file = join(dir, `f${++count}.${ext}`);
  writeFileSync(file, text);
  return file;
}

const csv = (text: string, column?: string): DatasetConfig => ({ file: write('csv', text), format: 'csv', ...(column === undefined ? {} : { column }) });
const json = (text: string, column?: string): DatasetConfig => ({ file: write('json', text), format: 'json', ...(column === undefined ? {} : { column }) });

/** The MpcError INPUT that `f` throws, with `file` replaced by `F` in its message. */
function failure(f: () => unknown, file: string): { message: string; party: string | undefined } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MpcError);
    expect((e as MpcError).code).toBe(ErrorCode.INPUT);
    return { message: (e as MpcError).message.split(file).join('F'), party: (e as MpcError).party };
  }
  throw new Error('expected an error');
}
const csvError = (cfg: DatasetConfig, name = 'x') => failure(() => loadDataset(name, cfg, 'p1'), cfg.file).message;
const jsonError = csvError;

describe('CSV datasets', () => {
  it('reads a column as decimal strings, exact beyond 2^53', () => {
    const cfg = csv('id,x,note\n1,9007199254740993,a\n2, -9223372036854775808 ,"b, c"\r\n3,"42",\n');
    const v = loadDataset('x', cfg);
    expect(v).toEqual(['9007199254740993', '-9223372036854775808', '42']);
    // What the caller does next: exact in the ring.
    expect([...encodeIntVector(v, 'x')]).toEqual([9007199254740993n, 2n ** 63n, 42n]);
    expect(loadDataset('other', { ...cfg, column: 'id' })).toEqual(['1', '2', '3']);
  });

  it('reads a header-only or empty file as an empty vector, and ignores trailing blank lines', () => {
    expect(loadDataset('x', csv('x\n'))).toEqual([]);
    expect(loadDataset('x', csv('x,y'))).toEqual([]);
    expect(loadDataset('x', csv(''))).toEqual([]);
    expect(loadDataset('x', csv('\ufeffx\n1\n2\n\n\n'))).toEqual(['1', '2']);
  });

  it('names the columns when the column is missing or repeated', () => {
    expect(csvError(csv('a,b\n1,2\n'))).toBe('F:1: input p1.x: no column "x" in the header (columns: "a", "b")');
    expect(csvError(csv('a,b\n1,2\n', 'amount'))).toBe('F:1: input p1.x: no column "amount" in the header (columns: "a", "b")');
    expect(csvError(csv('x,b,x\n1,2,3\n'))).toMatch(/^F:1: input p1\.x: column "x" appears more than once in the header \(fields 1 and 3\)/);
  });

  it('reports a bad cell with its line, field and column name', () => {
    const cfg = csv('id,x\n1,5\n2,7\n3,1.5\n');
    expect(csvError(cfg)).toBe(
      'F:4: input p1.x[2] (line 4, field 2, column "x"): expected a signed 64-bit integer (number or decimal string), got "1.5" (string)',
    );
    expect(failure(() => loadDataset('x', cfg, 'p1'), cfg.file).party).toBe('p1');
    expect(csvError(csv('id,x\n1,abc\n'))).toMatch(/^F:2: input p1\.x\[0\] \(line 2, field 2, column "x"\): .*got "abc"/);
    expect(csvError(csv('id,x\n1,2\n2,\n'))).toBe('F:3: input p1.x[1] (line 3, field 2, column "x"): expected a signed 64-bit integer, got an empty cell');
    expect(csvError(csv('x\n9223372036854775808\n'))).toMatch(/^F:2: input p1\.x\[0\] .*\[-2\^63, 2\^63-1\]/);
    // Without a party, the input alone is named.
    const anonymous = csv('x\n1e3\n');
    expect(failure(() => loadDataset('x', anonymous), anonymous.file)).toEqual({
      message: expect.stringMatching(/^F:2: input x\[0\] \(line 2, field 1, column "x"\): .*got "1e3"/),
      party: undefined,
    });
  });

  it('counts lines from where a record starts, across quoted line breaks', () => {
    expect(csvError(csv('note,x\n"two\nlines",1\nok,bad\n'))).toMatch(/^F:4: input p1\.x\[1\] \(line 4, /);
    expect(csvError(csv('x,note\nbad,"two\nlines"\n'))).toMatch(/^F:2: input p1\.x\[0\] \(line 2-3, /);
  });

  it('refuses ragged rows and blank lines inside the data', () => {
    expect(csvError(csv('a,x\n1,2\n3,4,5\n'))).toBe('F:3: line 3: expected 2 fields as in the header, got 3');
    expect(csvError(csv('a,x\n1,2\n3\n'))).toBe('F:3: line 3: expected 2 fields as in the header, got 1');
    expect(csvError(csv('x\n1\n\n2\n'))).toBe('F:3: empty line in the data (a missing value?)');
  });

  it('turns csv-parse errors into file:line', () => {
    expect(csvError(csv('a,x\n1,2\n3,"4\n5,6\n'))).toMatch(/^F:4: invalid CSV: Quote Not Closed/);
    expect(csvError(csv('a,x\n1,x"y\n'))).toMatch(/^F:2: invalid CSV: Invalid Opening Quote/);
  });

  it('names an unreadable file', () => {
    const file = join(dir, 'missing.csv');
    expect(failure(() => loadDataset('x', { file, format: 'csv' }), file).message).toBe('F: cannot read: ENOENT');
  });
});

describe('JSON datasets', () => {
  it('reads the whole document, or the input by name from an object', () => {
    expect(loadDataset('x', json('[1, "9007199254740993", -3]'))).toEqual([1, '9007199254740993', -3]);
    expect(loadDataset('x', json('7'))).toBe(7);
    expect(loadDataset('x', json('"-9223372036854775808"'))).toBe('-9223372036854775808');
    expect(loadDataset('x', json('[]'))).toEqual([]);
    expect(loadDataset('x', json('{"x": [1, 2], "y": 3}'))).toEqual([1, 2]);
  });

  it('reads a column from an object or from row records', () => {
    expect(loadDataset('x', json('{"amount": [4, 5]}', 'amount'))).toEqual([4, 5]);
    expect(loadDataset('x', json('[{"id": 1, "amount": 4}, {"amount": "9007199254740993"}]', 'amount'))).toEqual([4, '9007199254740993']);
    expect(loadDataset('x', json('[]', 'amount'))).toEqual([]);
  });

  it('reports a bad element at its line and column', () => {
    expect(jsonError(json('[1,\n 2,\n 1.5]'))).toBe('F:3:2: input p1.x[2]: expected a signed 64-bit integer (number or decimal string), got 1.5');
    expect(jsonError(json('{\n  "x": [1, "abc"]\n}'))).toMatch(/^F:2:12: input p1\.x\[1\]: .*got "abc"/);
    expect(jsonError(json('{"x": true}'))).toMatch(/^F:1:7: input p1\.x: .*got true \(boolean\)/);
    expect(jsonError(json('[[1]]'))).toMatch(/^F:1:2: input p1\.x\[0\]: .*got an array of length 1/);
    expect(jsonError(json('[\n {"a": 1},\n {"a": null}\n]', 'a'))).toMatch(/^F:3:8: input p1\.x\[1\]: .*got null/);
  });

  it('refuses a missing field, a wrong top level and malformed rows', () => {
    expect(jsonError(json('{"y": [1]}'))).toBe('F:1:1: input p1.x: no field "x" in the top-level object (fields: "y")');
    expect(jsonError(json('{"y": [1]}', 'amount'))).toBe('F:1:1: input p1.x: no field "amount" in the top-level object (fields: "y")');
    expect(jsonError(json('[1, 2]', 'amount'))).toBe('F:1:2: input p1.x[0]: expected a row object with field "amount", got 1');
    expect(jsonError(json('[{"amount": 1},\n {"amt": 2}]', 'amount'))).toBe('F:2:2: input p1.x[1]: row 1 has no field "amount"');
    expect(jsonError(json('5', 'amount'))).toBe('F:1:1: input p1.x: with column "amount", expected an object or an array of row objects, got 5');
  });

  it('refuses JSON syntax errors and rounded numbers at their position', () => {
    expect(jsonError(json('[1, 2,]'))).toBe('F:1:7: invalid JSON: trailing comma (not allowed in JSON)');
    expect(jsonError(json('[1,\n 9007199254740993]'))).toMatch(/^F:2:2: \[1\]: the integer 9007199254740993 is beyond ±2\^53.*\("9007199254740993"\)$/);
  });

  it('loads every dataset of a node by input name', () => {
    const values = loadDatasets(
      { x: csv('x\n1\n2\n'), y: json('{"y": "5"}'), ['__proto__']: json('[3]') },
      'p1',
    );
    expect(values).toEqual(Object.fromEntries([['x', ['1', '2']], ['y', '5'], ['__proto__', [3]]]));
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    const bad = csv('x\n1\noops\n');
    expect(failure(() => loadDatasets({ x: bad }, 'p2'), bad.file)).toEqual({
      message: expect.stringMatching(/^F:3: input p2\.x\[1\] /),
      party: 'p2',
    });
  });
});

describe('inputs files', () => {
  const inputs = (text: string) => write('json', text);
  const inputsError = (text: string) => {
    const file = inputs(text);
    return failure(() => loadInputsFile(file), file);
  };

  it('reads a good file and can point back into it', () => {
    const file = inputs('{\n  "p1": { "x": [1, "9007199254740993"] },\n  "p2": { "y": -4 }\n}\n');
    const { raw, locate } = loadInputsFile(file);
    expect(raw).toEqual({ p1: { x: [1, '9007199254740993'] }, p2: { y: -4 } });
    expect(locate(['p2', 'y'])).toEqual({ line: 3, column: 16 });
  });

  it('reports a value of the wrong type for its input with its line, column, party and input', () => {
    // 1.5 is a number (a fixed-point input could take it); the plan says p1.x holds integers.
    const file = inputs('{\n  "p1": {\n    "x": [1, 2, 3,\n          1.5],\n    "f": [1.5, "-0.25"]\n  }\n}\n');
    const located = loadInputsFile(file);
    const def = circuit({ name: 't', parties: ['p1'] }, (c) => {
      c.reveal('s', c.vector('p1', 'x').sum());
      c.reveal('f', c.fixed('p1', 'f', { max: 1 }).sum());
    });
    const { plan } = compileLoaded({ definition: def, file: 't' }, new Map([['p1.x', 4], ['p1.f', 2]]));
    expect(failure(() => checkInputsFile(located, plan), file)).toEqual({
      message: 'F:4:11: input p1.x[3]: expected a signed 64-bit integer (number or decimal string), got 1.5',
      party: 'p1',
    });
    const over = inputs('{"p1": {"x": [1, 2, 3, 4], "f": [0.5, 1.25]}}');
    expect(failure(() => checkInputsFile(loadInputsFile(over), plan), over).message).toBe('F:1:39: input p1.f[1]: 1.25 is outside the declared range [-∞, 1]');
  });

  it('reports a value that is not a number with its line, column, party and input', () => {
    expect(inputsError('{"p1": {"x": 1}, "p2": {"y": "12a"}}').message).toMatch(/^F:1:30: input p2\.y: .*got "12a"/);
    expect(inputsError('{"p1": {"x": {"a": 1}}}').message).toMatch(/^F:1:14: input p1\.x: .*got an object/);
  });

  it('reports a bad shape where it is', () => {
    expect(inputsError('[1, 2]').message).toMatch(/^F:1:1: expected an object \{ "<party>"/);
    expect(inputsError('{"p1": {"x": 1},\n "p2": [1]}').message).toBe('F:2:8: p2: expected an object of named inputs, got an array');
  });

  it('refuses syntax errors and big bare integers at their position', () => {
    expect(inputsError('{"p1": {"x": 1,}}').message).toBe('F:1:16: invalid JSON: trailing comma (not allowed in JSON)');
    expect(inputsError('{"p1": {"x": [0, 18446744073709551615]}}').message).toMatch(
      /^F:1:18: p1\.x\[1\]: the integer 18446744073709551615 is beyond ±2\^53.*\("18446744073709551615"\)$/,
    );
  });
});
