import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * A Data Rights Protocol authorized agent for tests: its own Ed25519 key pair, messages signed as
 * the protocol sends them (base64 of the 64-byte signature followed by the JSON), and the claims
 * every message carries.
 */
export class TestAgent {
  readonly verifyKey: string;
  private readonly privateKey: KeyObject;

  constructor(
    readonly id: string,
    readonly businessId: string,
  ) {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    this.verifyKey = Buffer.from(jwk.x!, 'base64url').toString('base64');
    this.privateKey = privateKey;
  }

  /** The signed body of a message (JSON as given, so a test can sign exactly what it wants). */
  signJson(json: string): string {
    const bytes = Buffer.from(json, 'utf8');
    return Buffer.concat([sign(null, bytes, this.privateKey), bytes]).toString('base64');
  }

  sign(claims: Record<string, unknown>): string {
    return this.signJson(JSON.stringify(claims));
  }

  /** The claims every message carries, valid for 15 minutes from `now`, with `extra` on top. */
  claims(extra: Record<string, unknown> = {}, now = new Date()): Record<string, unknown> {
    return {
      'agent-id': this.id,
      'business-id': this.businessId,
      'issued-at': new Date(now.getTime() - 1000).toISOString(),
      'expires-at': new Date(now.getTime() + 15 * 60_000).toISOString(),
      ...extra,
    };
  }

  /** A signed exercise request (§2.01) for a person. */
  exercise(exercise: string, email: string, extra: Record<string, unknown> = {}, now = new Date()): string {
    return this.sign(
      this.claims(
        { 'drp.version': '1.0', exercise, regime: 'ccpa', name: 'Test Person', email, email_verified: true, ...extra },
        now,
      ),
    );
  }
}

/** Flips one bit of a signed body's message part: the signature no longer holds. */
export function tamper(body: string): string {
  const b = Buffer.from(body, 'base64');
  b[b.length - 2] = b[b.length - 2]! ^ 0x01;
  return b.toString('base64');
}

export interface ReceivedCallback {
  readonly path: string;
  readonly body: Record<string, unknown>;
}

/**
 * A real HTTP receiver on loopback for status callbacks; `failFirst` answers 503 to that many first;
 * `hang` never answers (an agent that is down behind a proxy), `onRequest` is told of each arrival.
 */
export async function startCallbackReceiver(opts: { failFirst?: number; hang?: boolean; onRequest?: () => void } = {}) {
  const received: ReceivedCallback[] = [];
  let failures = opts.failFirst ?? 0;
  const hung = { held: 0, dropped: 0 };
  const waiters: (() => void)[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    opts.onRequest?.();
    if (opts.hang) {
      hung.held++;
      req.socket.on('close', () => hung.dropped++);
      return;
    }
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(503).end();
        return;
      }
      received.push({ path: req.url ?? '', body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(200).end();
      waiters.splice(0).forEach((w) => w());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    /** The callbacks received for one request, in order. */
    statuses(requestId: string): string[] {
      return received.filter((c) => c.body['request_id'] === requestId).map((c) => String(c.body['status']));
    },
    /** Waits until `pred` holds over what was received (or fails after `ms`). */
    async until(pred: () => boolean, ms = 30_000): Promise<void> {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`callbacks not received in time: ${JSON.stringify(received)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    /** Requests held unanswered (`hang`), and of them those whose sender gave up. */
    hung: () => ({ ...hung }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
