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
}

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
  ) {}
  async send(m: Mail): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const eml = `From: ${this.from}\r\nTo: ${m.to}\r\nSubject: ${m.subject}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${m.text}\r\n`;
    writeFileSync(join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${newId.other('mail')}.eml`), eml, {
      mode: 0o600,
    });
  }

  async purge(to: string): Promise<number> {
    let n = 0;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.eml'));
    } catch {
      return 0;
    }
    const want = to.trim().toLowerCase();
    for (const f of names) {
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
