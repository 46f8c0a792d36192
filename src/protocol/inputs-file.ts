/**
 * Reading an inputs file for `mpc run --inputs <file.json>` (ARCHITECTURE.md §6):
 * `{ "<party>": { "<input>": value | [values] } }`, integers as numbers or decimal strings,
 * real numbers (fixed-point inputs) as numbers or decimal strings. Every value is checked
 * to be a number when the file is read, and against its input's type and range once the
 * plan is known (`checkInputsFile`), where its line and column are still known.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { checkNumber } from '../ring/encoding.ts';
import type { Plan } from '../compiler/plan.ts';
import { readJsonLocated, type JsonPath, type Position } from '../util/json-file.ts';
import { checkRawInputs, encodeElement, type RawInputs } from './inputs.ts';

/** An inputs file, checked, with the means to point back into it. */
export interface InputsFile {
  file: string;
  raw: RawInputs;
  /** Where the value at `path` (e.g. `['p1', 'x', 3]`) starts in the file. */
  locate(path: JsonPath): Position | undefined;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Read and check an inputs file. Errors are MpcError INPUT with the position of the
 * offending value: `inputs.json:4:12: input p1.x[3]: expected a signed 64-bit integer …, got 1.5`.
 * @example const { raw } = loadInputsFile('/tmp/inputs.json'); // { p1: { x: [1, "9007199254740993"] } }
 */
export function loadInputsFile(file: string): InputsFile {
  const { value, locate } = readJsonLocated(file, ErrorCode.INPUT);
  const where = (path: JsonPath): string => {
    const p = locate(path);
    return p === undefined ? file : `${file}:${p.line}:${p.column}`;
  };
  // checkRawInputs words the shape errors; we only work out where they are.
  const badParty = isRecord(value) ? Object.keys(value).find((party) => !isRecord(value[party])) : undefined;
  const source = !isRecord(value) ? where([]) : badParty !== undefined ? where([badParty]) : file;
  const raw = checkRawInputs(value, source);
  for (const [party, inputs] of Object.entries(raw)) {
    for (const [name, v] of Object.entries(inputs)) {
      const check = (x: unknown, path: JsonPath, label: string): void => {
        try {
          checkNumber(x, label);
        } catch (e) {
          throw new MpcError(ErrorCode.INPUT, `${where(path)}: ${(e as Error).message}`, { party, cause: e });
        }
      };
      if (Array.isArray(v)) v.forEach((x, i) => check(x, [party, name, i], `input ${party}.${name}[${i}]`));
      else check(v, [party, name], `input ${party}.${name}`);
    }
  }
  return { file, raw, locate };
}

/**
 * Check an inputs file against a compiled plan: every value of the type (integer or fixed
 * point) and in the range the circuit declares for it, errors at the value's line and column.
 */
export function checkInputsFile(f: InputsFile, plan: Plan): void {
  const where = (path: JsonPath): string => {
    const p = f.locate(path);
    return p === undefined ? f.file : `${f.file}:${p.line}:${p.column}`;
  };
  for (const i of plan.inputs) {
    const v = f.raw[i.party]?.[i.name];
    if (v === undefined) continue;
    const check = (x: unknown, path: JsonPath, label: string): void => {
      try {
        encodeElement(i, x, label);
      } catch (e) {
        throw new MpcError(ErrorCode.INPUT, `${where(path)}: ${(e as Error).message}`, { party: i.party, cause: e });
      }
    };
    if (Array.isArray(v)) v.forEach((x, k) => check(x, [i.party, i.name, k], `input ${i.party}.${i.name}[${k}]`));
    else check(v, [i.party, i.name], `input ${i.party}.${i.name}`);
  }
}
