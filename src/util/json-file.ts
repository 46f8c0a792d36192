/**
 * Reading JSON files with errors a person can act on: file, line and column.
 * @module
 */
import { readFileSync } from 'node:fs';
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
    const where = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : lineColumn(text, pos ? Number(pos[1]) : text.length);
    throw new MpcError(code, `${file}:${where.line}:${where.column}: invalid JSON: ${msg}`);
  }
}

export function readJsonFile(file: string, code: ErrorCode): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new MpcError(code, `${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseJson(text, file, code);
}
