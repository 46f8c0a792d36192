// Circuit mistakes are reported when the circuit is compiled, naming file, line and op.
import { describe, expect, it } from 'vitest';
import { circuit } from '../../src/circuit/index.ts';
import { compileLoaded, compileFile } from '../../src/compiler/load.ts';
import { compileInline } from '../helpers.ts';
import { ErrorCode } from '../../src/errors.ts';

const thisFile = /test\/circuit\/dsl\.test\.ts:\d+:\d+/;

function compileError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error('expected the compilation to fail');
}

describe('circuit DSL errors', () => {
  it('unknown party names the party, the op and the line', () => {
    const e = compileError(() => compileInline(['p1', 'p2'], (c) => c.reveal('x', c.scalar('p9', 'x'))));
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(thisFile);
    expect(e.message).toMatch(/scalar: unknown party "p9"/);
  });

  it('length mismatch names both lengths', () => {
    const e = compileError(() =>
      compileInline(['p1', 'p2'], (c) => c.reveal('z', c.vector('p1', 'x').mul(c.vector('p2', 'y'))), { 'p1.x': 3, 'p2.y': 4 }),
    );
    expect(e.message).toMatch(thisFile);
    expect(e.message).toMatch(/mul: length mismatch: 3 elements vs 4 elements/);
  });

  it('a circuit that reveals nothing is refused', () => {
    const e = compileError(() => compileInline(['p1'], (c) => void c.scalar('p1', 'x')));
    expect(e.code).toBe(ErrorCode.CIRCUIT);
    expect(e.message).toMatch(/test\/inline\.ts: circuit inline reveals nothing/);
  });

  it('a value from another circuit is refused', () => {
    let leaked: unknown;
    compileInline(['p1'], (c) => {
      leaked = c.scalar('p1', 'x');
      c.reveal('x', leaked as never);
    });
    const e = compileError(() => compileInline(['p1'], (c) => c.reveal('y', c.scalar('p1', 'x').add(leaked as never))));
    expect(e.message).toMatch(/add: this value belongs to another circuit/);
  });

  it('missing vector shape tells how to give it', () => {
    const e = compileError(() => compileInline(['p1'], (c) => c.reveal('s', c.vector('p1', 'x').sum())));
    expect(e.message).toMatch(/the length of p1\.x is not known.*--shape p1\.x=LENGTH/);
  });

  it('fixed lengths are checked against the given shape', () => {
    const e = compileError(() =>
      compileInline(['p1', 'p2'], (c) => c.reveal('d', c.vector('p1', 'x').dot(c.vector('p2', 'y', { length: 2 }))), { 'p1.x': 2, 'p2.y': 3 }),
    );
    expect(e.message).toMatch(/p2\.y has 3 elements but the circuit requires 2/);
  });

  it('duplicate inputs, bad names, unknown recipients and duplicate outputs', () => {
    expect(compileError(() => compileInline(['p1'], (c) => { c.scalar('p1', 'x'); c.scalar('p1', 'x'); })).message).toMatch(/declared twice/);
    expect(compileError(() => compileInline(['p1'], (c) => c.reveal('x', c.scalar('p1', 'bad name')))).message).toMatch(/invalid input name/);
    expect(compileError(() => compileInline(['p1'], (c) => c.reveal('x', c.scalar('p1', 'x'), { to: 'mallory' }))).message).toMatch(/unknown recipient "mallory"/);
    expect(compileError(() => compileInline(['p1'], (c) => { const x = c.scalar('p1', 'x'); c.reveal('x', x); c.reveal('x', x); })).message).toMatch(/output x is defined twice/);
  });

  it('bad constants are reported with the op', () => {
    const e = compileError(() => compileInline(['p1'], (c) => c.reveal('x', c.scalar('p1', 'x').mul(1.5))));
    expect(e.message).toMatch(/mul: .*1\.5/);
    expect(compileError(() => compileInline(['p1'], (c) => c.reveal('x', c.scalar('p1', 'x').add('2'.repeat(30))))).message).toMatch(/add: /);
  });

  it('derived outputs may read only revealed outputs their recipients receive', () => {
    expect(compileError(() => compileInline(['p1'], (c) => { c.reveal('s', c.scalar('p1', 'x')); c.derive('m', 's / count'); })).message).toMatch(/derive m: "count" is not a revealed output/);
    expect(compileError(() => compileInline(['p1'], (c) => { c.reveal('s', c.scalar('p1', 'x'), { to: 'p1' }); c.derive('m', 's * 2'); })).message).toMatch(/recipient analyst does not receive s/);
    expect(compileError(() => compileInline(['p1'], (c) => { c.reveal('s', c.scalar('p1', 'x')); c.derive('m', 's +* 2'); })).message).toMatch(/cannot parse/);
  });

  it('a circuit body that throws is reported against its file', () => {
    const definition = circuit({ name: 'boom', parties: ['p1'] }, () => {
      throw new Error('kaboom');
    });
    expect(() => compileLoaded({ definition, file: 'circuits/boom.ts' }, new Map())).toThrow(/circuits\/boom\.ts: the circuit body threw: kaboom/);
  });

  it('files that are missing or do not export a circuit name the file', async () => {
    await expect(compileFile('circuits/nope.ts', new Map())).rejects.toThrow(/circuits\/nope\.ts: no such circuit file/);
    await expect(compileFile('test/helpers.ts', new Map())).rejects.toThrow(/test\/helpers\.ts: the default export must be circuit/);
  });

  it('circuit() validates its options', () => {
    expect(() => circuit({ name: 'x', parties: [] }, () => {})).toThrow(TypeError);
    expect(() => circuit({ name: 'x', parties: ['p1', 'p1'] }, () => {})).toThrow(/duplicate/);
    expect(() => circuit({ name: 'x', parties: ['analyst'] }, () => {})).toThrow(/reserved/);
  });
});
