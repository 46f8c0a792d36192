/**
 * The only way protocol code talks to other parties. Implementations: the in-memory
 * transport for tests (`memory.ts`) and the mTLS WebSocket transport (`src/net`).
 *
 * A transport is scoped to one job: it only carries that job's messages between the n
 * computing parties, which are numbered 0..n-1 in the order of the job's party list.
 * Messages are addressed by (kind, round), so a receiver may ask for a message before or
 * after it arrived, and each message is consumed exactly once.
 * @module
 */

/** Kinds of protocol message. Values are part of the wire format: never renumber. */
export const MessageKind = {
  /** Input sharing: seeds or masked values from an input owner. */
  Input: 1,
  /** Openings of d = x - a and e = y - b for one multiplication layer. */
  Open: 2,
  /** Output shares sent to a party that is a recipient. */
  Output: 3,
  /** MAC-check commitments and openings (malicious security). */
  MacCheck: 4,
  /** Hash of received broadcasts, compared to detect inconsistent broadcasts. */
  BroadcastCheck: 5,
  /** Oblivious transfer (base OT, OT extension, OT-based multiplication); rounds per `otRound` in src/preprocessing/ot. */
  Ot: 6,
  /** Openings, coin tosses and checks of the dealer-free malicious preprocessing (src/preprocessing/ot/spdz2k.ts). */
  Prep: 7,
} as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/**
 * Round numbers of a chunked layer: chunk c of layer k is round c·2^20 + k, unique per
 * message slot (layers < 2^20) and equal to the layer number for a layer's first chunk. The
 * executor numbers chunks this way; the network spreads chunks over its lanes by `chunkOf`.
 */
export const CHUNK_ROUND_STRIDE = 2 ** 20;

/** Round id of chunk `chunk` of layer `layer`. */
export function chunkRound(layer: number, chunk: number): number {
  return chunk * CHUNK_ROUND_STRIDE + layer;
}

/** The chunk index of a round id (0 for every unchunked message). */
export function chunkOf(round: number): number {
  return Math.floor(round / CHUNK_ROUND_STRIDE);
}

export interface TransportStats {
  bytesSent: number;
  messagesSent: number;
  bytesReceived: number;
  messagesReceived: number;
}

export interface Transport {
  /** This party's index, 0..n-1. */
  readonly self: number;
  /** Number of computing parties. */
  readonly n: number;
  /**
   * Send `payload` to party `to`. Resolves once the channel accepted it (this is where
   * backpressure applies); the payload must not be modified afterwards.
   */
  send(to: number, kind: MessageKind, round: number, payload: Uint8Array): Promise<void>;
  /**
   * The payload of the message from `from` with this kind and round. Rejects if the job is
   * aborted or the peer is lost before it arrives.
   */
  recv(from: number, kind: MessageKind, round: number): Promise<Uint8Array>;
  /** Fail every pending and future `recv` with `reason`. Idempotent. */
  abort(reason: Error): void;
  stats(): TransportStats;
}

/** A new zeroed stats object. */
export function emptyStats(): TransportStats {
  return { bytesSent: 0, messagesSent: 0, bytesReceived: 0, messagesReceived: 0 };
}
