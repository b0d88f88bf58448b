import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  to: string;
  raw: string;
}

/** A real SMTP server on loopback that keeps what it receives. */
export async function startSmtp() {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), raw });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** The last 6-digit code sent to this address. */
    codeFor(to: string): string {
      const m = [...messages].reverse().find((x) => x.to === to);
      const code =
        m?.raw.replace(/=\r?\n/g, '').match(/(?:code|code de v=C3=A9rification|vérification)\s*:\s*(\d{6})/i)?.[1] ??
        m?.raw.match(/\b(\d{6})\b/)?.[1];
      if (!code) throw new Error(`no code mailed to ${to}`);
      return code;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
