export type Lang = 'en' | 'fr';

const EN = {
  title: 'Your face, your rights',
  intro:
    'Here you can consent to a face-matching purpose, find out what is held about you, and withdraw, restrict, object or erase yourself — by your face, whoever you are.',
  purposes: 'Purposes you can join',
  noPurposes: 'No purpose is open for consent right now.',
  join: 'Read the notice and join',
  whatHeld: 'What do you hold about me?',
  console: 'Operator console',
  notice: 'What you agree to',
  consentBox:
    'I give my explicit consent to the processing of my face for this purpose, as described above. I can withdraw it at any time.',
  email: 'Email (optional, to exercise your rights later)',
  selfie: 'Your photo',
  selfieHelp: 'A clear photo of your face only, looking at the camera.',
  useCamera: 'Use the camera',
  takePhoto: 'Take the photo',
  submitConsent: 'Consent and enroll',
  mustTick: 'Tick the consent box to continue: consent is never assumed.',
  needPhoto: 'Choose or take a photo first.',
  enrolled: 'You are enrolled.',
  quality: (size: number, sharp: number) =>
    `Photo check: your face is ${size} pixels tall and sharp enough (${sharp}).`,
  receipt: 'Download your consent receipt',
  accessIntro:
    'Enter your email. We send a code to prove the address is yours. Add a selfie to find face data held about you, even if we do not know your name.',
  sendCode: 'Send me a code',
  codeSent: 'We sent a 6-digit code to your email.',
  code: 'Code from the email',
  verify: 'Show my data',
  nothingHeld: 'We hold no face data matching you.',
  yourData: 'What we hold about you',
  purposesHeld: 'Purposes',
  consents: 'Consents',
  photosOfMe: 'Photos of you (other faces blurred)',
  searches: 'Searches that returned you',
  downloadZip: 'Download everything (ZIP)',
  actions: 'What would you like to do?',
  withdraw: 'Withdraw my consent',
  erase: 'Erase me everywhere',
  restrict: 'Restrict use of my data',
  object: 'Object and never enroll me again',
  confirm: {
    'withdraw-consent': 'Your consent will be withdrawn and your face templates destroyed now. Continue?',
    erasure:
      'Everything we hold about you will be erased now, and the key that protects it destroyed. This cannot be undone. Continue?',
    restriction: 'Your data will be kept but not used or matched until you lift the restriction. Continue?',
    objection:
      'Your data will be erased and your face kept only on a do-not-enroll list, so nobody can enroll it again. Continue?',
  } as Record<string, string>,
  done: 'Done.',
  certificate: 'Download the erasure certificate',
  error: 'Something went wrong:',
  language: 'Français',
};

const FR: typeof EN = {
  title: 'Votre visage, vos droits',
  intro:
    'Ici, vous pouvez consentir à une finalité de reconnaissance faciale, savoir ce que nous détenons sur vous, et retirer votre consentement, limiter, vous opposer ou vous faire effacer — par votre visage, qui que vous soyez.',
  purposes: 'Finalités auxquelles vous pouvez participer',
  noPurposes: "Aucune finalité n'est ouverte au consentement pour l'instant.",
  join: "Lire l'information et participer",
  whatHeld: 'Que détenez-vous sur moi ?',
  console: "Console de l'opérateur",
  notice: 'Ce que vous acceptez',
  consentBox:
    'Je donne mon consentement explicite au traitement de mon visage pour cette finalité, telle que décrite ci-dessus. Je peux le retirer à tout moment.',
  email: 'Adresse e-mail (facultative, pour exercer vos droits plus tard)',
  selfie: 'Votre photo',
  selfieHelp: "Une photo nette de votre seul visage, face à l'objectif.",
  useCamera: 'Utiliser la caméra',
  takePhoto: 'Prendre la photo',
  submitConsent: 'Consentir et enregistrer',
  mustTick: "Cochez la case de consentement pour continuer : le consentement n'est jamais présumé.",
  needPhoto: "Choisissez ou prenez d'abord une photo.",
  enrolled: 'Vous êtes enregistré(e).',
  quality: (size: number, sharp: number) =>
    `Vérification : votre visage mesure ${size} pixels et la photo est assez nette (${sharp}).`,
  receipt: 'Télécharger votre reçu de consentement',
  accessIntro:
    "Saisissez votre e-mail. Nous envoyons un code pour prouver que l'adresse est la vôtre. Ajoutez un selfie pour retrouver les données de visage vous concernant, même si nous ne connaissons pas votre nom.",
  sendCode: 'Envoyez-moi un code',
  codeSent: 'Nous avons envoyé un code à 6 chiffres à votre adresse.',
  code: 'Code reçu par e-mail',
  verify: 'Afficher mes données',
  nothingHeld: 'Nous ne détenons aucune donnée de visage correspondant à vous.',
  yourData: 'Ce que nous détenons sur vous',
  purposesHeld: 'Finalités',
  consents: 'Consentements',
  photosOfMe: 'Photos de vous (autres visages floutés)',
  searches: 'Recherches qui vous ont retourné(e)',
  downloadZip: 'Tout télécharger (ZIP)',
  actions: 'Que souhaitez-vous faire ?',
  withdraw: 'Retirer mon consentement',
  erase: "M'effacer partout",
  restrict: "Limiter l'utilisation de mes données",
  object: "M'opposer et ne plus jamais être enregistré(e)",
  confirm: {
    'withdraw-consent': 'Votre consentement sera retiré et vos gabarits détruits immédiatement. Continuer ?',
    erasure:
      'Tout ce que nous détenons sur vous sera effacé maintenant, et la clé qui le protège détruite. Impossible à annuler. Continuer ?',
    restriction:
      "Vos données seront conservées mais ni utilisées ni comparées jusqu'à la levée de la limitation. Continuer ?",
    objection:
      "Vos données seront effacées et votre visage conservé uniquement sur une liste d'exclusion, pour que personne ne puisse plus l'enregistrer. Continuer ?",
  },
  done: 'C’est fait.',
  certificate: "Télécharger le certificat d'effacement",
  error: 'Une erreur est survenue :',
  language: 'English',
};

export const STRINGS: Record<Lang, typeof EN> = { en: EN, fr: FR };
