import type { Mail, Mailer } from '../src/rights/mailer.js';

/** Mail kept in memory for rule tests (the end-to-end tests use a real SMTP server). */
export class MemoryMailer implements Mailer {
  readonly sent: Mail[] = [];

  async send(m: Mail): Promise<void> {
    this.sent.push(m);
  }

  /** The last six-digit code sent to this address. */
  codeFor(to: string): string {
    const m = [...this.sent].reverse().find((x) => x.to === to);
    const code = m && /\b(\d{6})\b/.exec(m.text)?.[1];
    if (!code) throw new Error(`no code was mailed to ${to}`);
    return code;
  }
}
