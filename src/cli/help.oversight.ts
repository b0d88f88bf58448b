import type { CommandHelp } from './help.js';

const JSON_NOTE = 'Every command takes --json (one JSON document on stdout).';
const ID = 'req_id';

/** Usage of the accountability commands: rights requests, records, retention, orders, breaches. */
export const OVERSIGHT_COMMANDS: Readonly<Record<string, CommandHelp>> = {
  rights: {
    summary: 'data-subject requests: submit, verify, list, show, review, extend, fulfil, deny',
    subs: {
      submit: {
        usage: 'submit --kind K --email E [--subject S] [--receipt R] [--details TEXT] [--lang en|fr]',
        about:
          'kinds: access rectification erasure restriction lift-restriction portability objection withdraw-consent contest;\na code is mailed to E',
      },
      verify: {
        usage: `verify <${ID}> --code CODE [--selfie FILE]...`,
        about:
          "the requester's proof: the mailed code (and selfies, whose search goes to the DPO's review);\nprints the download token for the results",
      },
      list: { usage: 'list [--open] [--overdue] [--review]', about: 'the queue with due dates and days left' },
      show: { usage: `show <${ID}>`, about: 'one request with its history and what waits for review' },
      review: {
        usage: `review <${ID}> --decision approve|reject [--subject S]... --note TEXT`,
        about: 'decide on subjects found by face or held under another basis',
      },
      extend: {
        usage: `extend <${ID}> --months 1|2 --reason TEXT`,
        about: 'once, before the first deadline; the reason (10 characters or more) is told to the person',
      },
      fulfil: {
        usage: `fulfil <${ID}> [--out FILE] [--suppress] [--new-email E] [--remove-template ID]...`,
        about: 'carry out a verified request; --out writes the access ZIP, portability JSON or erasure certificate',
      },
      deny: { usage: `deny <${ID}> --reason TEXT --ground TEXT`, about: 'refuse, with the legal ground' },
    },
    notes: JSON_NOTE,
  },
  agents: {
    summary: 'authorized agents of the Data Rights Protocol: add, list, revoke (admin)',
    subs: {
      add: {
        usage:
          'add <agent-id> --name NAME (--verify-key BASE64 | --verify-key-file FILE)\n         [--callback-origin https://agent.example] [--web-url URL]',
        about: 'registers an agent and the Ed25519 key it signs with; status callbacks go only to its callback origin',
      },
      list: { usage: 'list', about: 'registered agents' },
      revoke: { usage: 'revoke <agent-id>', about: 'the agent can no longer file or follow requests' },
    },
    notes: JSON_NOTE,
  },
  ropa: {
    summary: 'record of processing activities (Art. 30), JSON with DPV terms or Markdown',
    usage: { usage: '[--json | --md] [--out FILE]', about: 'The record of processing, from the live system.' },
  },
  dpia: {
    summary: 'a pre-filled impact assessment draft per purpose (Art. 35)',
    usage: { usage: '--purpose P [--out FILE]', about: 'A DPIA draft (Markdown) for a human to complete.' },
  },
  retention: {
    summary: 'run the retention job (or --dry-run); the public schedule',
    subs: {
      run: { usage: 'run [--dry-run]', about: 'erase what is past retention (with certificates)' },
      schedule: { usage: 'schedule', about: 'the public retention schedule' },
    },
    notes: JSON_NOTE,
  },
  order: {
    summary: 'regulator orders: record, act, list, close, evidence bundle',
    subs: {
      record: {
        usage: 'record --file ORDER.json',
        about: "a regulator's order: authority, reference, receivedAt, deadline, demands",
      },
      act: {
        usage: 'act <ord_id> --kind K --description D [--purpose P]',
        about: 'kinds: suspend-purpose resume-purpose erasure export answer other',
      },
      list: { usage: 'list [--overdue]', about: 'orders with their deadlines' },
      close: { usage: 'close <ord_id>', about: 'close an order' },
      bundle: { usage: 'bundle <ord_id> --out FILE.zip', about: 'the signed evidence bundle' },
    },
    notes: JSON_NOTE,
  },
  breach: {
    summary: 'breach register with the 72-hour clock',
    subs: {
      record: {
        usage: 'record --file BREACH.json',
        about: 'discoveredAt, nature, categories, approxPeople, approxRecords, consequences, measures',
      },
      notify: { usage: 'notify <brc_id> --reference R', about: 'the supervisory authority was notified (Art. 33)' },
      people: {
        usage: 'people <brc_id> --inform yes|no --reason R',
        about: 'whether the people are informed (Art. 34)',
      },
      list: { usage: 'list [--overdue]', about: 'breaches with their notification deadlines' },
    },
    notes: JSON_NOTE,
  },
};
