import type { Store } from '../store/store.js';
import type { Mailer } from './mailer.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import { requestRepository as repo } from './request.repository.js';

/** Writing to the person behind a request: the one place their sealed address is opened. */
export class Requester {
  constructor(private readonly deps: { store: Store; secrets: ContactSecrets; mailer: Mailer }) {}

  async mail(requestId: string, m: { subject: string; text: string }): Promise<void> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row) return;
    await this.deps.mailer.send({ to: this.deps.secrets.openContact(requestId, row.contact_sealed), ...m });
  }

  /** The address itself, for copying to a follow-up request of the same person. */
  async address(requestId: string): Promise<string | null> {
    const row = await repo.row(this.deps.store.db, requestId);
    return row ? this.deps.secrets.openContact(requestId, row.contact_sealed) : null;
  }
}
