/**
 * A party node's datasets: the files behind its named inputs (`datasets` in the node
 * config). Each dataset yields the raw value of one input, a vector or a single integer,
 * and every element is checked here to be a signed 64-bit integer, so a bad cell is reported
 * as `file:line…` rather than later, as an anonymous input error.
 *
 * Values are returned as read (CSV cells as their decimal strings), not encoded: a decimal
 * string keeps integers beyond 2^53 exact, and encoding belongs to `encodePartyInputs`.
 * @module
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { MpcError, ErrorCode } from '../errors.ts';
import { encodeFixed, encodeInt } from '../ring/encoding.ts';
import { FRAC_BITS } from '../circuit/lib/fixed.ts';
import type { DatasetConfig } from '../security/config.ts';
import { readJsonLocated, readTextFile, type JsonPath, type LocatedJson } from '../util/json-file.ts';

/** `input p1.x` or, without a party, `input x`: how errors name the input. */
function inputLabel(name: string, party: string | undefined): string {
  return party === undefined ? `input ${name}` : `input ${party}.${name}`;
}

function inputError(message: string, party: string | undefined, cause?: unknown): MpcError {
  const options: { party?: string; cause?: unknown } = {};
  if (party !== undefined) options.party = party;
  if (cause !== undefined) options.cause = cause;
  return new MpcError(ErrorCode.INPUT, message, options);
}

const CSV_OPTIONS = {
  bom: true,
  // Spaces around a number carry no meaning in a data file.
  trim: true,
  // Record lengths are checked in loadCsv, with messages that name the header.
  relax_column_count: true,
} as const;

/** Parsed files by format and path, shared by the inputs of one `loadDatasets` call. */
type ParseCache = Map<string, unknown>;

function cached<T>(cache: ParseCache, key: string, parse: () => T): T {
  if (!cache.has(key)) cache.set(key, parse());
  return cache.get(key) as T;
}

/** A parsed CSV file, with the lines of each record worked out only when an error needs them. */
interface CsvFile {
  records: string[][];
  /** `4`, or `4-5` for a record whose quoted field spans lines: the lines of record `r`. */
  lines(r: number): { first: number; text: string };
}

function readCsv(file: string, party: string | undefined): CsvFile {
  const text = readTextFile(file, ErrorCode.INPUT);
  let records: string[][];
  try {
    records = parseCsv(text, CSV_OPTIONS);
  } catch (e) {
    const lines = (e as { lines?: unknown }).lines;
    const where = typeof lines === 'number' ? `${file}:${lines}` : file;
    throw inputError(`${where}: invalid CSV: ${(e as Error).message}`, party, e);
  }
  let ends: number[] | undefined;
  return {
    records,
    lines(r) {
      // csv-parse's `info` gives each record's last line but makes parsing ~3x slower, so the
      // file is parsed again, with it, only on this error path.
      ends ??= (parseCsv(text, { ...CSV_OPTIONS, info: true }) as unknown as Array<{ info: { lines: number } }>).map((x) => x.info.lines);
      // Blank lines are records too (they are not skipped), so a record starts on the line
      // after the previous one ends.
      const first = r === 0 ? 1 : ends[r - 1] + 1;
      const last = ends[r];
      return { first, text: first === last ? `${first}` : `${first}-${last}` };
    },
  };
}

const isBlank = (r: string[]): boolean => r.length === 1 && r[0] === '';

/** A dataset value of the dataset's type: an integer, or (type "fixed") a real number. */
function checkValue(cfg: DatasetConfig, v: unknown, label: string): void {
  if (cfg.type === 'fixed') encodeFixed(v, FRAC_BITS, label);
  else encodeInt(v, label);
}

/** Digits, optionally negative; with at most 15 characters always within 64 bits (encodeInt would accept it). */
const SMALL_INT = /^-?\d+$/;

/**
 * The `column` of a CSV file with a header row, as decimal strings. Trailing blank lines are
 * ignored; a blank line before the end is an error, as it is most likely a missing value.
 */
function loadCsv(name: string, cfg: DatasetConfig, party: string | undefined, cache: ParseCache): string[] {
  const { file } = cfg;
  const column = cfg.column ?? name;
  const { records, lines } = cached(cache, `csv:${file}`, () => readCsv(file, party));
  let end = records.length;
  while (end > 0 && isBlank(records[end - 1])) end--;
  // An empty file has no header, but nothing is lost by reading it as no rows: length 0.
  if (end === 0) return [];
  const header = records[0];
  const index = header.indexOf(column);
  if (index < 0) {
    const listed = header.map((h) => JSON.stringify(h)).join(', ');
    throw inputError(`${file}:1: ${inputLabel(name, party)}: no column ${JSON.stringify(column)} in the header (columns: ${listed})`, party);
  }
  if (header.lastIndexOf(column) !== index) {
    // Picking either copy could compute on the wrong data.
    throw inputError(`${file}:1: ${inputLabel(name, party)}: column ${JSON.stringify(column)} appears more than once in the header (fields ${index + 1} and ${header.lastIndexOf(column) + 1})`, party);
  }
  const out = new Array<string>(end - 1);
  for (let r = 1; r < end; r++) {
    const record = records[r];
    const cell = record.length === header.length ? record[index] : undefined;
    // The common case costs one regex test; encodeInt decides everything else (and words it).
    if (cell !== undefined && cell.length <= 15 && SMALL_INT.test(cell)) {
      out[r - 1] = cell;
      continue;
    }
    const { first, text } = lines(r);
    if (isBlank(record)) throw inputError(`${file}:${first}: empty line in the data (a missing value?)`, party);
    if (cell === undefined) {
      throw inputError(`${file}:${first}: line ${text}: expected ${header.length} fields as in the header, got ${record.length}`, party);
    }
    const label = `${inputLabel(name, party)}[${r - 1}] (line ${text}, field ${index + 1}, column ${JSON.stringify(column)})`;
    if (cell === '') {
      throw inputError(`${file}:${first}: ${label}: expected a signed 64-bit integer, got an empty cell`, party);
    }
    try {
      checkValue(cfg, cell, label);
    } catch (e) {
      throw inputError(`${file}:${first}: ${(e as Error).message}`, party, e);
    }
    out[r - 1] = cell;
  }
  return out;
}

/** `file:line:column: message`, or `file: message` when the path cannot be found. */
function at(doc: LocatedJson, file: string, path: JsonPath): string {
  const p = doc.locate(path);
  return p === undefined ? file : `${file}:${p.line}:${p.column}`;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : JSON.stringify(v);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Check a JSON value (integer or array of integers) element by element, at its position. */
function checkJsonValue(cfg: DatasetConfig, value: unknown, base: JsonPath, doc: LocatedJson, file: string, label: string, party: string | undefined): void {
  const check = (v: unknown, path: JsonPath, what: string): void => {
    try {
      checkValue(cfg, v, what);
    } catch (e) {
      throw inputError(`${at(doc, file, path)}: ${(e as Error).message}`, party, e);
    }
  };
  if (Array.isArray(value)) value.forEach((v, i) => check(v, [...base, i], `${label}[${i}]`));
  else check(value, base, label);
}

/**
 * A JSON dataset: with `column`, either `{ column: value }` or rows `[{ column: v }, …]`;
 * without it, the whole document, or `{ name: value }`.
 */
function loadJson(name: string, cfg: DatasetConfig, party: string | undefined, cache: ParseCache): unknown {
  const { file, column } = cfg;
  const doc = cached(cache, `json:${file}`, () => readJsonLocated(file, ErrorCode.INPUT));
  const top = doc.value;
  const label = inputLabel(name, party);
  if (column !== undefined && Array.isArray(top)) {
    // Row records: the value is the column of every row.
    const out = top.map((row, i) => {
      if (!isRecord(row)) throw inputError(`${at(doc, file, [i])}: ${label}[${i}]: expected a row object with field ${JSON.stringify(column)}, got ${describeJson(row)}`, party);
      if (!Object.hasOwn(row, column)) throw inputError(`${at(doc, file, [i])}: ${label}[${i}]: row ${i} has no field ${JSON.stringify(column)}`, party);
      const v = row[column];
      try {
        checkValue(cfg, v, `${label}[${i}]`);
      } catch (e) {
        throw inputError(`${at(doc, file, [i, column])}: ${(e as Error).message}`, party, e);
      }
      return v;
    });
    return out;
  }
  const key = column ?? name;
  if (isRecord(top)) {
    if (!Object.hasOwn(top, key)) {
      const keys = Object.keys(top).map((k) => JSON.stringify(k)).join(', ') || 'none';
      throw inputError(`${at(doc, file, [])}: ${label}: no field ${JSON.stringify(key)} in the top-level object (fields: ${keys})`, party);
    }
    checkJsonValue(cfg, top[key], [key], doc, file, label, party);
    return top[key];
  }
  if (column !== undefined) {
    throw inputError(`${at(doc, file, [])}: ${label}: with column ${JSON.stringify(column)}, expected an object or an array of row objects, got ${describeJson(top)}`, party);
  }
  checkJsonValue(cfg, top, [], doc, file, label, party);
  return top;
}

/**
 * The raw value of input `name` from its dataset: an array (CSV always; JSON when the
 * value is one) or a single integer, elements as numbers or decimal strings.
 * @param party Named in errors (`input p1.x[3]`) and set on them, when given.
 * @throws MpcError INPUT naming the file, the line (and column for JSON), the input and the
 *   element: `data.csv:4: input p1.x[2] (line 4, field 2, column "x"): expected …, got "1.5" (string)`.
 * @example loadDataset('salary', { file: '/data/hr.csv', format: 'csv' }) // ['52000', '61000']
 */
export function loadDataset(name: string, cfg: DatasetConfig, party?: string, cache: ParseCache = new Map()): unknown {
  return cfg.format === 'csv' ? loadCsv(name, cfg, party, cache) : loadJson(name, cfg, party, cache);
}

/** Every dataset of `party`'s node, by input name: the `values` for `encodePartyInputs`. */
export function loadDatasets(datasets: Record<string, DatasetConfig>, party: string): Record<string, unknown> {
  // fromEntries defines own properties, so an input named "__proto__" cannot reach a prototype.
  // Several inputs often come from one file (columns of a CSV, keys of a JSON object):
  // parse each file once.
  const cache: ParseCache = new Map();
  return Object.fromEntries(Object.entries(datasets).map(([name, cfg]) => [name, loadDataset(name, cfg, party, cache)]));
}
