/**
 * Reading an inputs file for `mpc run --inputs <file.json>` (ARCHITECTURE.md §6):
 * `{ "<party>": { "<input>": value | [values] } }`, integers as numbers or decimal strings.
 * Every value is checked here, where its line and column are still known.
 * @module
 */
import { MpcError, ErrorCode } from '../errors.ts';
import { encodeInt } from '../ring/encoding.ts';
import { readJsonLocated, type JsonPath, type Position } from '../util/json-file.ts';
import { checkRawInputs, type RawInputs } from './inputs.ts';

/** An inputs file, checked, with the means to point back into it. */
export interface InputsFile {
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
          encodeInt(x, label);
        } catch (e) {
          throw new MpcError(ErrorCode.INPUT, `${where(path)}: ${(e as Error).message}`, { party, cause: e });
        }
      };
      if (Array.isArray(v)) v.forEach((x, i) => check(x, [party, name, i], `input ${party}.${name}[${i}]`));
      else check(v, [party, name], `input ${party}.${name}`);
    }
  }
  return { raw, locate };
}
