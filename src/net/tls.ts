/**
 * TLS settings shared by server and client: TLS 1.3 only, mutual authentication against the
 * federation CA as the only trust anchor, and identities read from the certificate's
 * `spiffe://` URI SAN (never from host names: a host name says where a peer is, not who).
 * @module
 */
import type { ConnectionOptions, PeerCertificate, TLSSocket } from 'node:tls';
import { ErrorCode, MpcError } from '../errors.ts';
import { formatIdentity, sameIdentity } from '../security/identity.ts';
import type { Identity } from '../security/identity.ts';
import { identityFromCertificate } from '../security/pki.ts';

/** A process's TLS material, all PEM: trust anchor(s), own certificate and private key. */
export interface TlsMaterial {
  /** The federation CA certificate(s); the only certificates trusted for peers. */
  ca: string | string[];
  /** This process's certificate (issued by the CA, with its identity URI SAN). */
  cert: string;
  /** This process's private key. */
  key: string;
}

/** Options for `https.createServer`: TLS 1.3, client certificates required and verified. */
export function serverTlsOptions(tls: TlsMaterial) {
  return { ...mutualTls13(tls), requestCert: true } as const;
}

/** Both sides: our certificate and key, the federation CA as the only anchor, TLS 1.3 only. */
function mutualTls13(tls: TlsMaterial) {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    rejectUnauthorized: true,
  } as const;
}

/**
 * Options for the client side of a connection to a peer that must be `expected`. Host-name
 * verification is replaced by an identity check: the chain is still verified by OpenSSL
 * against `ca` (`rejectUnauthorized`), then `checkServerIdentity` compares the certificate's
 * URI identity with `expected`, so a valid certificate of another principal is refused during
 * the handshake, before a byte of application data is sent.
 */
export function clientTlsOptions(tls: TlsMaterial, expected: Identity): ConnectionOptions {
  return {
    ...mutualTls13(tls),
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      try {
        checkExpected(identityFromCertificate(cert), expected);
        return undefined;
      } catch (e) {
        return e as Error;
      }
    },
  };
}

/**
 * The verified identity of the peer on `socket`. Throws MpcError PEER_AUTH when the socket is
 * not authorized (cannot happen with `rejectUnauthorized`, checked anyway) or the certificate
 * carries no valid identity.
 */
export function peerIdentity(socket: TLSSocket): Identity {
  if (!socket.authorized) {
    throw new MpcError(ErrorCode.PEER_AUTH, `peer certificate not authorized: ${String(socket.authorizationError)}`);
  }
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) {
    throw new MpcError(ErrorCode.PEER_AUTH, 'peer presented no certificate');
  }
  return identityFromCertificate(cert);
}

/**
 * When the peer's certificate on `socket` stops being valid (its notAfter), for expiry
 * warnings about peers (src/node/tls-reload.ts); undefined when there is no certificate or
 * node's date text does not parse.
 */
export function peerCertificateExpiry(socket: TLSSocket): Date | undefined {
  const cert = socket.getPeerCertificate();
  const t = cert !== null && typeof cert === 'object' && typeof cert.valid_to === 'string' ? Date.parse(cert.valid_to) : Number.NaN;
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** Throw MpcError PEER_AUTH naming both identities unless `actual` is `expected`. */
export function checkExpected(actual: Identity, expected: Identity): void {
  if (!sameIdentity(actual, expected)) {
    throw new MpcError(
      ErrorCode.PEER_AUTH,
      `expected peer ${formatIdentity(expected)} but its certificate names ${formatIdentity(actual)}`,
      { party: expected.id },
    );
  }
}
