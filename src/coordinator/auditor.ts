/**
 * The auditor's side (`mpc audit fetch`): connect to a node with the auditor's certificate
 * and download that node's audit log as it stands, to verify it and compare it with the other
 * parties' logs offline (src/security/audit-check.ts). The node checks the role and records
 * the read in the log itself; the auditor can run nothing.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, MpcError } from '../errors.ts';
import { connect, wssUrl } from '../net/client.ts';
import { ControlKind, type Frame } from '../net/frame.ts';
import { abortError, parseJobAbort } from '../net/messages.ts';
import type { Endpoint, TlsMaterial } from '../security/config.ts';

export interface AuditTarget {
  federation: string;
  tls: TlsMaterial;
  parties: Endpoint[];
}

const nat = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** The audit log of `party`'s node, as bytes. Rejects with the node's refusal (FORBIDDEN, …). */
export async function fetchAuditLog(target: AuditTarget, party: string, timeoutMs = 60_000): Promise<Uint8Array> {
  const ep = target.parties.find((p) => p.id === party);
  if (ep === undefined) throw new MpcError(ErrorCode.CONFIG, `party ${party} is not in this federation (${target.parties.map((p) => p.id).join(', ')})`);
  const ch = await connect(wssUrl(ep.host, ep.port), {
    ...target.tls,
    expected: { federation: target.federation, role: 'party', id: party },
    parties: target.parties.map((p) => p.id),
    retry: { attempts: 3, baseMs: 100, maxMs: 1000 },
  });
  const request = randomBytes(8).toString('hex');
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      let data: Uint8Array | undefined;
      let filled = 0;
      const timer = setTimeout(() => reject(new MpcError(ErrorCode.PEER_LOST, `node ${party} sent no audit log within ${timeoutMs / 1000} s`, { party })), timeoutMs);
      const done = (e?: Error, v?: Uint8Array) => {
        clearTimeout(timer);
        if (e) reject(e);
        else resolve(v!);
      };
      ch.on('close', (c) => done(c.error ?? new MpcError(ErrorCode.PEER_LOST, `node ${party} closed the connection${c.reason ? ` (${c.reason})` : ''}`, { party })));
      ch.on('frame', (f: Frame) => {
        if (f.job !== request) return;
        if (f.kind === ControlKind.JobReject || f.kind === ControlKind.JobAbort) return done(abortError(parseJobAbort(f.body, party)));
        if (f.kind !== ControlKind.AuditChunk) return done(new MpcError(ErrorCode.PROTOCOL, `node ${party} answered an audit read with frame kind ${f.kind}`, { party }));
        const b = f.body as { offset?: unknown; total?: unknown } | undefined;
        const piece = f.payload ?? new Uint8Array(0);
        if (!nat(b?.offset) || !nat(b?.total) || (data !== undefined && b.total !== data.byteLength) || b.offset !== filled || b.offset + piece.byteLength > b.total) {
          return done(new MpcError(ErrorCode.PROTOCOL, `node ${party} sent audit log pieces out of order or of the wrong size`, { party }));
        }
        data ??= new Uint8Array(b.total);
        data.set(piece, b.offset);
        filled += piece.byteLength;
        if (filled === data.byteLength) done(undefined, data);
      });
      ch.resume();
      ch.send({ job: request, round: 0, kind: ControlKind.AuditRead }).catch((e: Error) => done(e));
    });
  } finally {
    ch.close();
  }
}
