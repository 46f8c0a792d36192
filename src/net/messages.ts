/**
 * Bodies of the control frames exchanged between analyst, nodes and dealer (kinds in
 * `src/net/frame.ts`). Every body received is checked here before use: a peer or client
 * that sends a malformed body gets a PROTOCOL error naming the field, never a crash.
 *
 * Job flow (analyst A, nodes N_i, dealer D):
 *   A → N_i  Describe                 N_i → A  DescribeReply { party, inputs }
 *   A → N_i  JobSubmit { plan, …, request }  N_i → A  JobAccept | JobReject (role, signed request
 *                                     and the node's policy are checked first: src/node/governance.ts)
 *   N_i → N_j JobAccept { planHash }  (every node waits for all peers: same plan, all in)
 *   N_i → D  DealerRequest            D → N_i  DealerSeeds (+ DealerCorrections to the last party)
 *   N_i → D  DealerCredit { granted } (flow control of the DealerCorrections: see below)
 *   N_i → A  JobProgress …, OutputShare (outputs addressed to the analyst), JobDone
 *   any → any JobAbort { code, reason, party }   (no output is delivered after an abort)
 * @module
 */
import { MpcError, ErrorCode, type ErrorCode as Code } from '../errors.ts';

import type { SecurityLevel } from '../protocol/suites.ts';
export type { SecurityLevel };

export interface JobSubmitBody {
  plan: Uint8Array;
  planHash: string;
  security: SecurityLevel;
  preprocessing: 'dealer' | 'ot';
  /** Pad every protocol frame of the job to a power-of-two size (src/net/frame.ts). */
  pad: boolean;
  /**
   * The analyst's signed request (src/security/request.ts), checked by the node against the
   * plan it received; parsed there, since its shape check belongs with its verification.
   */
  request: unknown;
}
export interface JobAcceptBody {
  planHash: string;
  /**
   * Node → node only: the SHA-256 of the signed request the node accepted (its canonical
   * bytes), so every node runs the job under the same request, options included.
   */
  request?: string;
}
export interface JobAbortBody {
  code: Code;
  reason: string;
  /** The party the failure is attributed to, when known. */
  party?: string;
  /** The node reporting it. */
  by?: string;
}
export interface JobProgressBody {
  layer: number;
  layers: number;
  multiplications: number;
}
/** One piece (bytes offset.. of total) of a node's messages for every analyst output. */
export interface OutputShareBody {
  names: string[];
  /** Byte length of each output's message, in `names` order; they add up to `total`. */
  lengths: number[];
  offset: number;
  total: number;
}
export interface JobDoneBody {
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  seconds: number;
  /** Time from the end of input sharing to the end of the last layer: the multiplications. */
  onlineSeconds: number;
  /** Protocol bytes this node sent during that time (the multiplications' openings). */
  onlineBytesSent: number;
  /** CPU time of the node process during the job (user + system). */
  cpuSeconds: number;
  /** Peak resident set size of the node process so far. */
  peakRssBytes: number;
  preprocessing: string;
  trust?: string;
  /**
   * OT preprocessing only: what this node's generator made for the job — triples and random
   * bits — and the seconds of session setup (base OTs) and of generation.
   */
  ot?: { triples: number; bits: number; setupSeconds: number; generateSeconds: number };
  /**
   * The job's preprocessing store (the bounded run-ahead material is produced into and taken
   * from exactly once): its bound, what it held at the end, the most it held (bytes), and
   * items taken of all.
   */
  store?: { budget: number; held: number; peak: number; taken: number; count: number };
}
export interface DescribeReplyBody {
  party: string;
  /** Input name → vector length, or null for a scalar. */
  inputs: Record<string, number | null>;
}
export interface DealerRequestBody {
  /** The plan itself: the dealer derives what to deal from it, never from a summary. */
  plan: Uint8Array;
  planHash: string;
  security: SecurityLevel;
  parties: string[];
}
export interface DealerSeedsBody {
  seed: Uint8Array;
  trust: string;
}
/** One chunk of the `item`-th extra item (bytes `offset`..) of `total` bytes. */
export interface DealerChunkBody {
  item: number;
  offset: number;
  total: number;
}
/**
 * Flow control of a job's DealerCorrections, node → dealer: the dealer may have sent chunks
 * of `granted` credit in all so far (`dealerChunkCost` each). The node grants a window right
 * after its DealerRequest and more as its preprocessing takes chunks out of its buffer; a
 * dealer that sends beyond its credit breaks the protocol. Never decreases.
 */
export interface DealerCreditBody {
  granted: number;
}

/**
 * Credit a DealerCorrections chunk of `payloadBytes` takes: its payload bytes, and one for an
 * empty chunk, so that no chunk is free (a dealer could otherwise flood the node with empty ones).
 */
export function dealerChunkCost(payloadBytes: number): number {
  return Math.max(1, payloadBytes);
}

function bad(kind: string, field: string, from: string): never {
  throw new MpcError(ErrorCode.PROTOCOL, `${kind} from ${from}: field ${field} is missing or malformed`, { party: from });
}

type Check = (x: unknown) => boolean;
const str: Check = (x) => typeof x === 'string' && x.length <= 4096;
const nat: Check = (x) => Number.isSafeInteger(x) && (x as number) >= 0;
const num: Check = (x) => typeof x === 'number' && Number.isFinite(x);
const bytes: Check = (x) => x instanceof Uint8Array;
const arr = (c: Check, max = 1 << 20): Check => (x) => Array.isArray(x) && x.length <= max && x.every(c);
const oneOf = (...v: string[]): Check => (x) => typeof x === 'string' && v.includes(x);
const opt = (c: Check): Check => (x) => x === undefined || c(x);
const numbers = (...keys: string[]): Check => (x) => typeof x === 'object' && x !== null && keys.every((k) => num((x as Record<string, unknown>)[k]));

/** Check `body` against a field table; returns it typed. */
function parse<T>(kind: string, body: unknown, from: string, fields: Record<string, Check>): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) bad(kind, 'body', from);
  for (const [k, c] of Object.entries(fields)) if (!c((body as Record<string, unknown>)[k])) bad(kind, k, from);
  return body as T;
}

export const parseJobSubmit = (b: unknown, from: string): JobSubmitBody =>
  parse('JobSubmit', b, from, {
    plan: bytes, planHash: str, security: oneOf('semi-honest', 'malicious'), preprocessing: oneOf('dealer', 'ot'), pad: (x) => typeof x === 'boolean', request: (x) => typeof x === 'object' && x !== null,
  });
export const parseJobAccept = (b: unknown, from: string): JobAcceptBody => parse('JobAccept', b, from, { planHash: str, request: opt(str) });
export const parseJobAbort = (b: unknown, from: string): JobAbortBody =>
  parse('JobAbort', b, from, { code: str, reason: str, party: opt(str), by: opt(str) });
export const parseJobProgress = (b: unknown, from: string): JobProgressBody =>
  parse('JobProgress', b, from, { layer: nat, layers: nat, multiplications: nat });
export const parseOutputShare = (b: unknown, from: string): OutputShareBody =>
  parse('OutputShare', b, from, { names: arr(str, 65536), lengths: arr(nat, 65536), offset: nat, total: nat });
export const parseJobDone = (b: unknown, from: string): JobDoneBody =>
  parse('JobDone', b, from, {
    bytesSent: nat, bytesReceived: nat, messagesSent: nat, seconds: num, onlineSeconds: num, onlineBytesSent: nat, cpuSeconds: num, peakRssBytes: nat, preprocessing: str, trust: opt(str),
    ot: opt(numbers('triples', 'bits', 'setupSeconds', 'generateSeconds')),
    store: opt(numbers('budget', 'held', 'peak', 'taken', 'count')),
  });
export const parseDescribeReply = (b: unknown, from: string): DescribeReplyBody => {
  const r = parse<DescribeReplyBody>('DescribeReply', b, from, { party: str });
  const inputs = (r as { inputs?: unknown }).inputs;
  if (typeof inputs !== 'object' || inputs === null || !Object.values(inputs).every((v) => v === null || nat(v))) bad('DescribeReply', 'inputs', from);
  return r;
};
export const parseDealerRequest = (b: unknown, from: string): DealerRequestBody =>
  parse('DealerRequest', b, from, { plan: bytes, planHash: str, security: oneOf('semi-honest', 'malicious'), parties: arr(str, 1024) });
export const parseDealerSeeds = (b: unknown, from: string): DealerSeedsBody => parse('DealerSeeds', b, from, { seed: bytes, trust: str });
export const parseDealerChunk = (b: unknown, from: string): DealerChunkBody =>
  parse('DealerCorrections', b, from, { item: nat, offset: nat, total: nat });
export const parseDealerCredit = (b: unknown, from: string): DealerCreditBody => parse('DealerCredit', b, from, { granted: nat });

/** The abort body describing `e`. */
export function abortBody(e: unknown, by: string): JobAbortBody {
  if (e instanceof MpcError) return { code: e.code, reason: e.message, ...(e.party ? { party: e.party } : {}), by };
  return { code: ErrorCode.ABORTED, reason: e instanceof Error ? e.message : String(e), by };
}

/** The error an abort body stands for, as seen by its receiver. */
export function abortError(b: JobAbortBody): MpcError {
  const code = (Object.values(ErrorCode) as string[]).includes(b.code) ? (b.code as Code) : ErrorCode.ABORTED;
  return new MpcError(code, b.by ? `${b.by}: ${b.reason}` : b.reason, b.party ? { party: b.party } : {});
}
