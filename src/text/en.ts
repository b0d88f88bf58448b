import type { Text } from './text.js';
import { uiEn } from './ui.en.js';

export const en: Text = {
  ...uiEn,
  durationUnits: [
    ['year', 'years'],
    ['month', 'months'],
    ['week', 'weeks'],
    ['day', 'days'],
  ],
  durationJoin: ' and ',
  notice: (f) =>
    `Controller: ${f.controller}.\nPurpose: ${f.name} — ${f.description}\nData: a biometric template computed from your photo (512 numbers), and the photo itself only if this purpose keeps it (${f.keepsPhotos ? 'yes' : 'no'}).\nLawful basis: your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a)).\nKept for: ${f.duration} after your last interaction, never more than 3 years.\nRecipients: ${f.recipients.join(', ') || 'none outside the controller'}.\nWithdrawal: any time in this portal, effective at once; your templates are then destroyed.`,
  requestKind: {
    access: 'access to your data',
    rectification: 'correction of your data',
    erasure: 'erasure of your data',
    restriction: 'restriction of processing',
    'lift-restriction': 'lifting the restriction',
    portability: 'a copy of your data to take elsewhere',
    objection: 'objection to processing',
    'withdraw-consent': 'withdrawal of your consent',
    contest: 'a human review of a face match that named you',
  },
  codeMail: (article, kind, code, requestId, due) => ({
    subject: `Your request (${article}): verification code`,
    text: `We received your request for ${en.requestKind[kind]} (reference ${requestId}).\n\nYour verification code: ${code}\nIt is valid for 30 minutes.\n\nWe must answer by ${due.slice(0, 10)} (GDPR Art. 12(3)).\nIf you did not make this request, ignore this message.`,
  }),
  portalCodeMail: (purposeName, code) => ({
    subject: `Your enrollment in "${purposeName}": verification code`,
    text: `Your verification code: ${code}\nIt is valid for 30 minutes. Enter it in the portal, with your photo, to finish enrolling.\n\nIf you did not ask to enroll, ignore this message: nothing is recorded without the code.`,
  }),
  extensionMail: (requestId, newDue, reason) => ({
    subject: `Your request ${requestId}: deadline extended`,
    text: `We need more time to handle your request ${requestId}. New deadline: ${newDue.slice(0, 10)}.\nReason: ${reason}\n(GDPR Art. 12(3).)`,
  }),
  closedMail: (requestId, state, summary) => ({
    subject: `Your request ${requestId}: ${state}`,
    text: `${summary}\n\nYou may lodge a complaint with a supervisory authority.`,
  }),
  outcome: {
    nothingHeld: 'We hold no face data matching you.',
    ready: 'Your data is ready to download from the portal.',
    erased: 'Erasure complete. A signed certificate is available in the portal.',
    done: 'Your request has been carried out.',
    underReview:
      'What is linked to your email address is answered now. The search by your photo is checked by our data protection officer before anything is shown or done, within the legal deadline; we will write to you.',
  },
  automatedMatching: ({ model, dimensions, threshold, fmr }) =>
    `Your photo was turned into a "template": a list of ${dimensions} numbers computed by a neural network (model ${model}) that describes the shape of a face, not the photo itself. To find someone, a new photo is turned into a template the same way and compared with the stored ones; two templates of the same person usually score higher than two of different people. Only scores at or above ${threshold} count as a match: at that threshold, ${fmr * 1e4 >= 0.5 ? `about ${Math.round(fmr * 1e4)} in 10,000` : 'fewer than 1 in 10,000'} comparisons of different people were wrongly matched in our tests. A match is a suggestion for the operator, who is responsible for any decision taken with it; no decision with legal effect is taken automatically.`,
  rightsReminder:
    'You may ask for rectification, erasure, restriction or portability, object, withdraw consent, and lodge a complaint with a supervisory authority.',
  portal: {
    title: 'Your face, your rights',
    intro:
      'Here you can consent to a face-matching purpose, find out what is held about you, and withdraw, restrict, object or erase yourself — by your email, and by your face if you wish.',
    purposes: 'Purposes you can join',
    noPurposes: 'No purpose is open for consent right now.',
    join: 'Read the notice and join',
    whatHeld: 'What do you hold about me?',
    console: 'Operator console',
    notice: 'What you agree to',
    consentBox:
      'I give my explicit consent to the processing of my face for this purpose, as described above. I can withdraw it at any time.',
    email: 'Your email address',
    emailHelp:
      'We send a code to prove the address is yours before any photo is taken. It also lets you exercise your rights later.',
    sendCode: 'Send me a code',
    codeSent: (email) => `We sent a 6-digit code to ${email}. It is valid for 30 minutes.`,
    code: 'Code from the email',
    startAgain: 'Use another address or get a new code',
    selfie: 'Your photo',
    selfieOptional: 'Your photo (optional)',
    selfieHelp: 'A clear photo of your face only, looking at the camera.',
    accessSelfieHelp:
      'Only to look for face data we may hold without knowing your email. That search is checked by our data protection officer before anything is shown or done.',
    useCamera: 'Use the camera',
    takePhoto: 'Take the photo',
    submitConsent: 'Consent and enroll',
    needEmail: 'Enter your email address first.',
    needCode: 'Enter the code from the email.',
    mustTick: 'Tick the consent box to continue: consent is never assumed.',
    needPhoto: 'Choose or take a photo first.',
    recorded: 'Thank you. Your consent is recorded.',
    quality: (size) => `Your photo has been checked: your face is ${size} pixels tall.`,
    nextSteps:
      'You can download your consent receipt below. You can withdraw at any time from this portal, under "What do you hold about me?". If anything more is needed, we will write to you.',
    receipt: 'Download your consent receipt',
    accessIntro:
      'Enter your email. We send a code to prove the address is yours, then show at once what is linked to it. You may add a photo of yourself to look for face data we hold without knowing your email.',
    verify: 'Show my data',
    nothingHeld: 'We hold no face data linked to your email address.',
    reviewPending:
      'What is linked to your email is shown now. The search by your photo is checked by our data protection officer before anything is shown or done; we will write to you.',
    yourData: 'What we hold about you',
    purposesHeld: 'Purposes',
    consents: 'Consents',
    photosOfMe: 'Photos of you (other faces blurred)',
    searches: 'Searches that returned you',
    none: 'None.',
    downloadZip: 'Download everything (ZIP)',
    actions: 'What would you like to do?',
    withdraw: 'Withdraw my consent',
    erase: 'Erase me everywhere',
    restrict: 'Restrict use of my data',
    object: 'Object and never enroll me again',
    contest: 'Contest a match',
    matchState: (state, n, of) =>
      state === 'rejected'
        ? 'match rejected'
        : state === 'confirmed'
          ? `match confirmed by ${n} people`
          : state === 'unconfirmed'
            ? `match not confirmed (${n} of ${of} people)`
            : 'match',
    confirm: {
      'withdraw-consent': 'Your consent will be withdrawn and your face templates destroyed. Continue?',
      erasure:
        'Everything we hold about you will be erased, and the key that protects it destroyed. This cannot be undone. Continue?',
      restriction: 'Your data will be kept but not used or matched until you lift the restriction. Continue?',
      objection:
        'Your data will be erased and your face kept only on a do-not-enroll list, so nobody can enroll it again. Continue?',
      contest:
        'Our data protection officer will look again at every search that matched you; a match found wrong is rejected and no longer counts. Continue?',
    },
    done: 'Done.',
    actionPending:
      'This was done for what is linked to your email address. Anything found only by your photo waits for the review by our data protection officer; we will write to you.',
    certificate: 'Download the erasure certificate',
    error: 'Something went wrong:',
    language: 'Français',
    verifyTitle: 'Prove it is you',
    verifyIntro:
      'Your authorized agent asked us to act on your data. Enter the code we emailed you to prove the address is yours. You may add a photo of yourself to look for face data we hold without knowing your email; that search is checked by our data protection officer before anything is shown or done.',
    verifySubmit: 'Prove it is me',
    verifyDone:
      'Thank you: your address is proven. We are handling your request within the legal deadline and keep your agent informed. You can close this page.',
    resend: 'Send a new code',
    resent: 'A new code is on its way.',
  },
  drp: {
    verify:
      'We emailed the person a code. They prove the address is theirs at the verification link (with the code, and a photo of themselves if they wish).',
    working: 'The address is proven; the request is being handled within the legal deadline.',
    review:
      'Part of the answer is checked by our data protection officer before anything is shown or done, within the legal deadline.',
    ready: 'The data is ready to download.',
    erased: 'Erasure complete.',
    denied: (reason, ground) => `Refused: ${reason} (${ground}).`,
    extended: (due, reason) => `We need more time: new deadline ${due.slice(0, 10)}. Reason: ${reason}`,
    revoked: 'Cancelled at the request of the agent.',
    notVerified: 'The address was not proven within 14 days; nothing was done. The person may ask again.',
    notSold: 'We do not sell personal data, nor share it for money: there is nothing to opt out of or into.',
  },
};
