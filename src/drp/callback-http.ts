import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';

/**
 * Where a status callback may go: only to the origin an admin registered for the agent, over
 * https, to a public address (a host that resolves into a private network is refused at connect
 * time, so DNS cannot be turned against us); loopback http only when the deployment allows it
 * (tests, local development). No redirect is ever followed and the answer's body is discarded.
 */
export interface CallbackPolicy {
  readonly loopback: boolean;
  readonly timeoutMs: number;
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['::ffff:0:0', 96],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a connection to this address is allowed. */
export function addressAllowed(address: string, loopback: boolean): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (loopback && LOOPBACK.check(address, family)) return true;
  return !PRIVATE.check(address, family);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An origin an admin registers: scheme, host and port only. https, or http on a loopback host
 * when the deployment allows it. Null when it is not acceptable.
 */
export function callbackOrigin(raw: string, loopback: boolean): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  if (u.username || u.password || (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return null;
  if (u.protocol === 'https:') return u.origin;
  return u.protocol === 'http:' && loopback && LOOPBACK_HOSTS.has(u.hostname) ? u.origin : null;
}

/** A callback URL the agent gave, when it is on its registered origin. */
export function callbackAllowed(url: string, origin: string | null): boolean {
  if (!origin) return false;
  try {
    const u = new URL(url);
    return u.origin === origin && !u.username && !u.password;
  } catch {
    return false;
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses a name resolving to an address we must not reach. */
function guardedLookup(loopback: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number }, cb: LookupCallback) => {
    dnsLookup(hostname, { family: options.family ?? 0, all: true }, (err, addresses) => {
      if (err) return cb(err, []);
      const list = addresses as LookupAddress[];
      if (!list.length || list.some((a) => !addressAllowed(a.address, loopback))) {
        const e = new Error(`${hostname} resolves to an address callbacks may not reach`) as NodeJS.ErrnoException;
        e.code = 'EBLOCKED';
        return cb(e, []);
      }
      if (options.all) return cb(null, list);
      cb(null, list[0]!.address, list[0]!.family);
    });
  };
}

/**
 * POSTs a status to the agent. Returns whether it was accepted (2xx) and a short result for the
 * audit log: the HTTP status, or an error class; never the answer's body.
 */
export function postCallback(
  url: string,
  origin: string | null,
  body: unknown,
  policy: CallbackPolicy,
): Promise<{ ok: boolean; result: string }> {
  if (!callbackAllowed(url, origin)) return Promise.resolve({ ok: false, result: 'blocked-origin' });
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !addressAllowed(host, policy.loopback))
    return Promise.resolve({ ok: false, result: 'blocked-address' });
  if (u.protocol === 'http:' && !(policy.loopback && LOOPBACK_HOSTS.has(u.hostname)))
    return Promise.resolve({ ok: false, result: 'blocked-origin' });
  const data = Buffer.from(JSON.stringify(body));
  const opts: RequestOptions = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(data.length), 'user-agent': 'Veil-DRP' },
    lookup: guardedLookup(policy.loopback) as never,
    timeout: policy.timeoutMs,
  };
  return new Promise((resolve) => {
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      res.on('end', () => resolve({ ok: status >= 200 && status < 300, result: String(status) }));
      res.on('error', () => resolve({ ok: false, result: 'network' }));
    });
    const timeout = () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' }));
    // The socket's timeout is an idle one: an answer trickled a byte at a time would never end. The
    // outbox counts on an attempt ending within timeoutMs (its lease), so this bounds the whole exchange.
    const deadline = setTimeout(timeout, policy.timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('timeout', timeout);
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        result: e.code === 'EBLOCKED' ? 'blocked-address' : e.code === 'ETIMEDOUT' ? 'timeout' : 'network',
      }),
    );
    req.end(data);
  });
}
