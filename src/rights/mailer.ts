import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { newId } from '../ids.js';

export interface Mail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
}

/** Outgoing mail to people making requests. Messages carry codes and status, never biometric data. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
  /** Deletes mail still held for this address (an erased person's codes and notices). */
  purge?(to: string): Promise<number>;
  /** Deletes held mail written before this instant (the hourly job keeps the outbox a week). */
  prune?(before: Date): Promise<number>;
}

/** Mail waiting in the outbox for an erased person goes with them. */
export async function purgeOutbox(mailer: Mailer, contact: string | null): Promise<void> {
  if (contact && mailer.purge) await mailer.purge(contact);
}

/** How long the embedded outbox keeps a message: long enough to be read, not a second store of addresses. */
export const OUTBOX_KEEP_MS = 7 * 86_400_000;

export class SmtpMailer implements Mailer {
  private readonly transport;
  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(url);
  }
  async send(m: Mail): Promise<void> {
    await this.transport.sendMail({ from: this.from, to: m.to, subject: m.subject, text: m.text });
  }
}

/**
 * Embedded default without SMTP: messages are written as .eml files under <dataDir>/outbox so a
 * single-machine operator can still see them. Production sets VEIL_SMTP_URL.
 */
export class OutboxMailer implements Mailer {
  constructor(
    private readonly dir: string,
    private readonly from: string,
    private readonly now: () => Date = () => new Date(),
  ) {}
  async send(m: Mail): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const eml = `From: ${this.from}\r\nTo: ${m.to}\r\nSubject: ${m.subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${m.text}\r\n`;
    writeFileSync(join(this.dir, `${stamp(this.now())}-${newId.other('mail')}.eml`), eml, {
      mode: 0o600,
    });
  }

  async prune(before: Date): Promise<number> {
    const limit = stamp(before);
    let n = 0;
    for (const f of this.names())
      if (f.slice(0, limit.length) < limit) {
        rmSync(join(this.dir, f), { force: true });
        n++;
      }
    return n;
  }

  private names(): string[] {
    try {
      return readdirSync(this.dir).filter((f) => f.endsWith('.eml'));
    } catch {
      return [];
    }
  }

  async purge(to: string): Promise<number> {
    let n = 0;
    const want = to.trim().toLowerCase();
    for (const f of this.names()) {
      const head = readFileSync(join(this.dir, f), 'utf8').split('\r\n\r\n', 1)[0] ?? '';
      const addr = /^To: (.*)$/m.exec(head)?.[1]?.trim().toLowerCase();
      if (addr === want) {
        rmSync(join(this.dir, f), { force: true });
        n++;
      }
    }
    return n;
  }
}

/** A file-name timestamp that sorts as the instant does. */
const stamp = (d: Date) => d.toISOString().replace(/[:.]/g, '-');
