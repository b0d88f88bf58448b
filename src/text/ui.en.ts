import { consoleEn } from './console.en.js';
import type { PortalAction } from './text.js';

export type { ConsoleText } from './console.en.js';

/** The portal's words beyond PortalText: what happens next, quality in words, who saw the record. */
export const wordsEn = {
  optional: '(optional)',
  drop: ['Drop a photo here or', 'choose a file'] as [string, string],
  refused: 'This did not work:',
  quality: {
    good: 'Your photo is clear and your face large enough: good for matching.',
    fair: 'Your photo is usable for matching. A sharper photo, closer to your face, would match more reliably; you can add one at any time.',
    poor: 'Your photo is hard to match (small, blurred or turned away). You may want to enroll again with a clearer photo.',
  },
  enrolledNext: (purpose: string, duration: string) =>
    `What happens next: from now on your face can be matched for "${purpose}". It is kept for ${duration} after your last interaction, then deleted. You can see, withdraw or erase it at any time under "What do you hold about me?".`,
  codeNext:
    'Next: open the email and type the 6-digit code here. Nothing within a few minutes? Look in your spam folder, or start again.',
  dataNext:
    'What happens next: nothing, unless you ask. Download everything below, or choose an action: each one asks you to confirm first.',
  actionNext: {
    'withdraw-consent':
      'What happens next: your face is no longer matched, and its templates are destroyed. Nothing else is needed from you.',
    erasure:
      'What happens next: nothing more is kept about you, and the key that protected it is destroyed. Keep the certificate: it proves the erasure.',
    restriction:
      'What happens next: your data is kept but not used or matched. Ask again here to lift the restriction.',
    objection:
      'What happens next: your data is erased and your face kept only on a do-not-enroll list, so nobody can enroll it again.',
    contest:
      'What happens next: our data protection officer reviews the searches that matched you within the legal deadline, and writes to you with the outcome.',
  } as Record<PortalAction, string>,
  confirmYes: 'Yes, continue',
  cancel: 'Cancel',
  keptFor: (d: string) => `kept for ${d} after your last interaction`,
  basis: {
    consent: 'your consent',
    contract: 'a contract with you',
    'legal-obligation': 'a legal obligation',
    'vital-interests': 'vital interests',
    'public-task': 'a task in the public interest',
    'legitimate-interests': 'legitimate interests',
  } as Record<string, string>,
  consentState: { given: 'given', withdrawn: 'withdrawn', expired: 'expired' } as Record<string, string>,
  viewed: 'Who looked at your record',
  viewWhat: {
    list: 'in a list of people',
    record: 'your record',
    photo: 'your enrollment photo',
    sighting: 'a photo you appear in',
  } as Record<string, string>,
  recipientsLabel: 'Shared with',
};

export type WordsText = typeof wordsEn;

/** Recipients as people read them (an access export's disclosures and views). */
export const recipientsEn = {
  key: (name: string, role: string) => `${name} (${role})`,
  roles: {
    admin: 'administrator',
    operator: 'operator',
    investigator: 'investigator',
    dpo: 'data protection officer',
    auditor: 'auditor',
  },
  cli: 'an administrator, at the command line',
  system: 'Veil itself (an automatic job)',
  agent: 'your authorized agent',
  you: 'you',
  unknown: 'a member of staff',
};

export type RecipientText = typeof recipientsEn;

export const uiEn = { words: wordsEn, recipients: recipientsEn, console: consoleEn };

/** The parts of Text that the web UI adds (Text extends it). */
export interface UiText {
  readonly words: WordsText;
  readonly recipients: RecipientText;
  readonly console: typeof consoleEn;
}
