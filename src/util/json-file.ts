/**
 * Reading JSON files with errors a person can act on: file, line and column.
 *
 * `parseJson`/`readJsonFile` are plain `JSON.parse` with a located syntax error; they suit
 * configuration. `readJsonLocated` is for data (inputs files, datasets): its syntax is strict
 * JSON, it refuses any number literal that `JSON.parse` would silently round to an integer,
 * and it can say where any value sits in the file, so a later check ("p1.x[3] is not an
 * integer") can still point at `file:line:column`.
 * @module
 */
import { readFileSync } from 'node:fs';
import { parseTree, printParseErrorCode, visit, type Node as JsonNode } from 'jsonc-parser';
import { MpcError, type ErrorCode } from '../errors.ts';

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** Parse JSON text; a syntax error becomes `file:line:column: message`. */
export function parseJson(text: string, file: string, code: ErrorCode): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    // V8 reports "... at position N" (Node 20) or "(line L column C)" (newer).
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    // Some messages ("Unexpected token '}', ... is not valid JSON") carry no position; then
    // ask the strict scanner where the first error is.
    const offset = pos ? Number(pos[1]) : (firstSyntaxError(text)?.offset ?? text.length);
    const where = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : lineColumn(text, offset);
    throw new MpcError(code, `${file}:${where.line}:${where.column}: invalid JSON: ${msg}`);
  }
}

/** Read a UTF-8 text file; failure becomes `file: cannot read: ENOENT` (or the like). */
export function readTextFile(file: string, code: ErrorCode): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new MpcError(code, `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Read and parse a JSON file with `parseJson`. */
export function readJsonFile(file: string, code: ErrorCode): unknown {
  return parseJson(readTextFile(file, code), file, code);
}

/** A path to a value inside a JSON document: property names and array indices. */
export type JsonPath = ReadonlyArray<string | number>;

/** Line and column (1-based). */
export interface Position {
  line: number;
  column: number;
}

/** A JSON document read by `readJsonLocated`. */
export interface LocatedJson {
  /** The document, as `JSON.parse` returns it. */
  value: unknown;
  /** Where the value at `path` starts, or undefined when there is no such value. */
  locate(path: JsonPath): Position | undefined;
}

/** Wording for jsonc-parser's error codes (keyed by `printParseErrorCode`'s names). */
const SYNTAX: Record<string, string> = {
  InvalidSymbol: 'unexpected token',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a property name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' or a closing bracket",
  CloseBraceExpected: "expected ',' or '}'",
  CloseBracketExpected: "expected ',' or ']'",
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unterminated comment (comments are not allowed in JSON)',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape sequence',
  InvalidCharacter: 'control character in a string (write it as an escape, e.g. \\t)',
};

const TWO_53 = 1n << 53n;

/** jsonc-parser's options for plain JSON: no comments, no trailing commas, no empty file. */
const STRICT = { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false } as const;

/** `p1.x[3]`, `["odd key"]`: a JSON path as a person reads it. */
export function formatJsonPath(path: JsonPath): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

/**
 * The exact integer a JSON number literal denotes, or undefined when it is not an integer
 * (or has more than 40 digits, far beyond any 64-bit value). `1.5e1` → 15n, `1e-400` → undefined.
 */
function exactInteger(raw: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  let digits = (m[2] + frac).replace(/^0+/, '');
  if (digits === '') return 0n;
  // An exponent too long for a safe integer is either huge or tiny; both are settled below.
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  let scale = exp - frac.length;
  const trimmed = digits.replace(/0+$/, '');
  scale += digits.length - trimmed.length;
  digits = trimmed;
  if (scale < 0 || digits.length + scale > 40) return undefined;
  const v = BigInt(digits) * 10n ** BigInt(scale);
  return m[1] === '-' ? -v : v;
}

/**
 * Why the number literal `raw` cannot be trusted as data, or undefined when it can.
 * JSON.parse turns every literal into a double; an integer beyond 2^53 (and a fraction that
 * rounds to an integer) then reads as a different integer without any error.
 */
function numberProblem(raw: string, value: number): string | undefined {
  if (!Number.isInteger(value)) return undefined; // a fraction: whoever wants an integer rejects it
  const exact = exactInteger(raw);
  if (exact !== undefined && exact >= -TWO_53 && exact <= TWO_53) return undefined;
  if (exact !== undefined) {
    return `the integer ${raw} is beyond ±2^53, where JSON numbers lose precision; write it as a decimal string ("${exact}")`;
  }
  if (Math.abs(value) > 2 ** 53) {
    return `the number ${raw} is beyond ±2^53, where JSON numbers lose precision; write integers that large as decimal strings`;
  }
  return `the number ${raw} is not an integer, but JSON parsers round it to the integer ${value}; write the intended value exactly`;
}

/** A syntax error's wording; a trailing comma gets its own, since it is the usual cause. */
function syntaxMessage(name: string, text: string, offset: number, length: number): string {
  if ((name === 'PropertyNameExpected' || name === 'ValueExpected') && (text[offset] === '}' || text[offset] === ']')) {
    if (/,\s*$/.test(text.slice(0, offset))) return 'trailing comma (not allowed in JSON)';
  }
  if (name === 'InvalidSymbol') return `unexpected ${JSON.stringify(text.slice(offset, offset + Math.max(1, Math.min(length, 20))))}`;
  if (name === 'ValueExpected' && offset >= text.length) return 'unexpected end of file, expected a value';
  return SYNTAX[name] ?? name;
}

/** The node for `path` under `root`; a repeated key resolves to its last occurrence, as in JSON.parse. */
function findNode(root: JsonNode, path: JsonPath): JsonNode | undefined {
  let node: JsonNode | undefined = root;
  for (const key of path) {
    if (node === undefined) return undefined;
    if (typeof key === 'number') {
      node = node.type === 'array' ? node.children?.[key] : undefined;
    } else {
      if (node.type !== 'object') return undefined;
      let found: JsonNode | undefined;
      for (const prop of node.children ?? []) {
        if (prop.children?.[0]?.value === key) found = prop.children[1];
      }
      node = found;
    }
  }
  return node;
}

/** The first syntax error in `text` as strict JSON, worded for a person; undefined when there is none. */
function firstSyntaxError(text: string): { offset: number; message: string } | undefined {
  let first: { offset: number; message: string } | undefined;
  visit(
    text,
    {
      onError(error, offset, length) {
        first ??= { offset, message: syntaxMessage(printParseErrorCode(error), text, offset, length) };
      },
    },
    STRICT,
  );
  return first;
}

/**
 * Parse `text` as strict JSON for data (see `readJsonLocated`); errors are
 * `file:line:column: …` MpcErrors with `code`.
 */
export function parseJsonLocated(text: string, file: string, code: ErrorCode): LocatedJson {
  // A UTF-8 byte-order mark is not JSON, but editors write it; it carries no meaning.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let syntax: { offset: number; message: string } | undefined;
  let inexact: { offset: number; message: string } | undefined;
  // One streaming pass, no tree: data files can hold millions of values.
  visit(
    text,
    {
      onError(error, offset, length) {
        syntax ??= { offset, message: syntaxMessage(printParseErrorCode(error), text, offset, length) };
      },
      onLiteralValue(value: unknown, offset, length, _line, _col, pathSupplier) {
        if (inexact !== undefined || typeof value !== 'number') return;
        const problem = numberProblem(text.slice(offset, offset + length), value);
        if (problem === undefined) return;
        const where = formatJsonPath(pathSupplier());
        inexact = { offset, message: where === '' ? problem : `${where}: ${problem}` };
      },
    },
    STRICT,
  );
  const fail = (offset: number, message: string): never => {
    const { line, column } = lineColumn(text, offset);
    throw new MpcError(code, `${file}:${line}:${column}: ${message}`);
  };
  // A syntax error comes first: until the file is JSON, its numbers mean nothing.
  if (syntax) fail(syntax.offset, `invalid JSON: ${syntax.message}`);
  if (inexact) fail(inexact.offset, inexact.message);
  // The value itself comes from JSON.parse, the reference for JSON semantics (and it makes
  // "__proto__" an own property, where building objects by assignment would not).
  const value = parseJson(text, file, code);
  let root: JsonNode | undefined;
  return {
    value,
    locate(path) {
      // The tree is only built when someone asks, usually to report an error.
      root ??= parseTree(text, undefined, STRICT);
      const node = root && findNode(root, path);
      return node && lineColumn(text, node.offset);
    },
  };
}

/**
 * Read a JSON data file strictly: comments and trailing commas are syntax errors, and an
 * integer literal beyond ±2^53 is an error asking for a decimal string, since `JSON.parse`
 * would round it silently. Errors are MpcErrors with `code`, worded
 * `file:line:column: invalid JSON: …` or `file:line:column: p1.x[3]: the integer … `.
 * @example
 * const { value, locate } = readJsonLocated('/data/inputs.json', ErrorCode.INPUT);
 * locate(['p1', 'x', 3]); // { line: 4, column: 12 }
 */
export function readJsonLocated(file: string, code: ErrorCode): LocatedJson {
  return parseJsonLocated(readTextFile(file, code), file, code);
}
