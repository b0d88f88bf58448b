import type { Text } from './text.js';
import { uiFr } from './ui.fr.js';

export const fr: Text = {
  ...uiFr,
  durationUnits: [
    ['an', 'ans'],
    ['mois', 'mois'],
    ['semaine', 'semaines'],
    ['jour', 'jours'],
  ],
  durationJoin: ' et ',
  notice: (f) =>
    `Responsable du traitement : ${f.controller}.\nFinalité : ${f.name} — ${f.description}\nDonnées : un gabarit biométrique calculé à partir de votre photo (512 nombres), et la photo seulement si cette finalité la conserve (${f.keepsPhotos ? 'oui' : 'non'}).\nBase légale : votre consentement explicite (RGPD art. 6(1)(a) et 9(2)(a)).\nDurée de conservation : ${f.duration} après votre dernière interaction, au plus 3 ans.\nDestinataires : ${f.recipients.join(', ') || 'aucun en dehors du responsable'}.\nRetrait : à tout moment dans ce portail, avec effet immédiat ; vos gabarits sont alors détruits.`,
  requestKind: {
    access: 'accès à vos données',
    rectification: 'rectification de vos données',
    erasure: 'effacement de vos données',
    restriction: 'limitation du traitement',
    'lift-restriction': 'levée de la limitation',
    portability: 'portabilité de vos données',
    objection: 'opposition au traitement',
    'withdraw-consent': 'retrait de votre consentement',
    contest: 'un réexamen humain d’une correspondance de visage qui vous a désigné(e)',
  },
  codeMail: (article, kind, code, requestId, due) => ({
    subject: `Votre demande (${article}) : code de vérification`,
    text: `Nous avons reçu votre demande de ${fr.requestKind[kind]} (référence ${requestId}).\n\nVotre code de vérification : ${code}\nIl est valable 30 minutes.\n\nNous devons y répondre au plus tard le ${due.slice(0, 10)} (article 12(3) du RGPD).\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.`,
  }),
  portalCodeMail: (purposeName, code) => ({
    subject: `Votre inscription à « ${purposeName} » : code de vérification`,
    text: `Votre code de vérification : ${code}\nIl est valable 30 minutes. Saisissez-le dans le portail, avec votre photo, pour terminer l'inscription.\n\nSi vous n'avez rien demandé, ignorez ce message : rien n'est enregistré sans le code.`,
  }),
  extensionMail: (requestId, newDue, reason) => ({
    subject: `Votre demande ${requestId} : délai prolongé`,
    text: `Nous avons besoin de plus de temps pour traiter votre demande ${requestId}. Nouvelle échéance : ${newDue.slice(0, 10)}.\nMotif : ${reason}\n(Article 12(3) du RGPD.)`,
  }),
  closedMail: (requestId, state, summary) => ({
    subject: `Votre demande ${requestId} : ${state === 'fulfilled' ? 'traitée' : 'refusée'}`,
    text: `${summary}\n\nVous pouvez introduire une réclamation auprès d'une autorité de contrôle (par exemple la CNIL).`,
  }),
  outcome: {
    nothingHeld: 'Nous ne détenons aucune donnée de visage correspondant à vous.',
    ready: 'Vos données sont prêtes à être téléchargées depuis le portail.',
    erased: 'Effacement terminé. Certificat signé disponible dans le portail.',
    done: 'Votre demande a été traitée.',
    underReview:
      'Ce qui est lié à votre adresse e-mail vous est répondu maintenant. La recherche par votre photo est vérifiée par notre délégué à la protection des données avant que quoi que ce soit ne soit montré ou fait, dans le délai légal ; nous vous écrirons.',
  },
  automatedMatching: ({ model, dimensions, threshold, fmr }) =>
    `Votre photo a été transformée en « gabarit » : une liste de ${dimensions} nombres calculée par un réseau de neurones (modèle ${model}) qui décrit la forme d'un visage, pas la photo elle-même. Pour retrouver une personne, une nouvelle photo est transformée de la même façon et comparée aux gabarits enregistrés ; deux gabarits de la même personne obtiennent le plus souvent un score plus élevé que ceux de deux personnes différentes. Seul un score d'au moins ${String(threshold).replace('.', ',')} compte comme une correspondance : à ce seuil, ${falseMatchesFr(fmr)} lors de nos tests. Une correspondance est une suggestion pour l'opérateur, responsable de toute décision ; aucune décision produisant des effets juridiques n'est prise automatiquement.`,
  rightsReminder:
    "Vous pouvez demander la rectification, l'effacement, la limitation, la portabilité, vous opposer, retirer votre consentement, et introduire une réclamation auprès d'une autorité de contrôle.",
  portal: {
    title: 'Votre visage, vos droits',
    intro:
      'Ici, vous pouvez consentir à une finalité de reconnaissance faciale, savoir ce que nous détenons sur vous, et retirer votre consentement, limiter, vous opposer ou vous faire effacer — par votre adresse e-mail, et par votre visage si vous le souhaitez.',
    purposes: 'Finalités auxquelles vous pouvez participer',
    noPurposes: "Aucune finalité n'est ouverte au consentement pour l'instant.",
    join: "Lire l'information et participer",
    whatHeld: 'Que détenez-vous sur moi ?',
    console: "Console de l'opérateur",
    notice: 'Ce que vous acceptez',
    consentBox:
      'Je donne mon consentement explicite au traitement de mon visage pour cette finalité, telle que décrite ci-dessus. Je peux le retirer à tout moment.',
    email: 'Votre adresse e-mail',
    emailHelp:
      "Nous envoyons un code pour prouver que l'adresse est la vôtre avant de prendre la moindre photo. Elle vous permet aussi d'exercer vos droits plus tard.",
    sendCode: 'Envoyez-moi un code',
    codeSent: (email) => `Nous avons envoyé un code à 6 chiffres à ${email}. Il est valable 30 minutes.`,
    code: 'Code reçu par e-mail',
    startAgain: 'Utiliser une autre adresse ou recevoir un nouveau code',
    selfie: 'Votre photo',
    selfieOptional: 'Votre photo (facultative)',
    selfieHelp: "Une photo nette de votre seul visage, face à l'objectif.",
    accessSelfieHelp:
      'Uniquement pour rechercher des données de visage que nous détiendrions sans connaître votre adresse. Cette recherche est vérifiée par notre délégué à la protection des données avant que quoi que ce soit ne soit montré ou fait.',
    useCamera: 'Utiliser la caméra',
    takePhoto: 'Prendre la photo',
    submitConsent: 'Consentir et enregistrer',
    needEmail: "Saisissez d'abord votre adresse e-mail.",
    needCode: 'Saisissez le code reçu par e-mail.',
    mustTick: "Cochez la case de consentement pour continuer : le consentement n'est jamais présumé.",
    needPhoto: "Choisissez ou prenez d'abord une photo.",
    recorded: 'Merci. Votre consentement est enregistré.',
    quality: (size) => `Votre photo a été vérifiée : votre visage mesure ${size} pixels de haut.`,
    nextSteps:
      "Vous pouvez télécharger votre reçu de consentement ci-dessous. Vous pouvez retirer votre consentement à tout moment depuis ce portail, sous « Que détenez-vous sur moi ? ». Si quelque chose d'autre est nécessaire, nous vous écrirons.",
    receipt: 'Télécharger votre reçu de consentement',
    accessIntro:
      "Saisissez votre e-mail. Nous envoyons un code pour prouver que l'adresse est la vôtre, puis nous montrons aussitôt ce qui y est lié. Vous pouvez ajouter une photo de vous pour rechercher des données de visage que nous détiendrions sans connaître votre adresse.",
    verify: 'Afficher mes données',
    nothingHeld: 'Nous ne détenons aucune donnée de visage liée à votre adresse e-mail.',
    reviewPending:
      'Ce qui est lié à votre adresse e-mail est affiché maintenant. La recherche par votre photo est vérifiée par notre délégué à la protection des données avant que quoi que ce soit ne soit montré ou fait ; nous vous écrirons.',
    yourData: 'Ce que nous détenons sur vous',
    purposesHeld: 'Finalités',
    consents: 'Consentements',
    photosOfMe: 'Photos de vous (autres visages floutés)',
    searches: 'Recherches qui vous ont retourné(e)',
    none: 'Aucune.',
    downloadZip: 'Tout télécharger (ZIP)',
    actions: 'Que souhaitez-vous faire ?',
    withdraw: 'Retirer mon consentement',
    erase: "M'effacer partout",
    restrict: "Limiter l'utilisation de mes données",
    object: "M'opposer et ne plus jamais être enregistré(e)",
    contest: 'Contester une correspondance',
    matchState: (state, n, of) =>
      state === 'rejected'
        ? 'correspondance rejetée'
        : state === 'confirmed'
          ? `correspondance confirmée par ${n} personnes`
          : state === 'unconfirmed'
            ? `correspondance non confirmée (${n} personne(s) sur ${of})`
            : 'correspondance',
    confirm: {
      'withdraw-consent': 'Votre consentement sera retiré et vos gabarits détruits. Continuer ?',
      erasure:
        'Tout ce que nous détenons sur vous sera effacé, et la clé qui le protège détruite. Impossible à annuler. Continuer ?',
      restriction:
        "Vos données seront conservées mais ni utilisées ni comparées jusqu'à la levée de la limitation. Continuer ?",
      objection:
        "Vos données seront effacées et votre visage conservé uniquement sur une liste d'exclusion, pour que personne ne puisse plus l'enregistrer. Continuer ?",
      contest:
        'Notre délégué à la protection des données réexaminera chaque recherche qui vous a reconnu(e) ; une correspondance jugée erronée est rejetée et ne compte plus. Continuer ?',
    },
    done: 'C’est fait.',
    actionPending:
      "C'est fait pour ce qui est lié à votre adresse e-mail. Ce qui ne serait retrouvé que par votre photo attend la vérification de notre délégué à la protection des données ; nous vous écrirons.",
    certificate: "Télécharger le certificat d'effacement",
    error: 'Une erreur est survenue :',
    language: 'English',
    verifyTitle: "Prouvez que c'est vous",
    verifyIntro:
      "Votre mandataire nous a demandé d'agir sur vos données. Saisissez le code reçu par e-mail pour prouver que l'adresse est la vôtre. Vous pouvez ajouter une photo de vous pour chercher des données de visage que nous détiendrions sans connaître votre adresse ; cette recherche est vérifiée par notre délégué à la protection des données avant que rien ne soit montré ou fait.",
    verifySubmit: "Prouver que c'est moi",
    verifyDone:
      'Merci : votre adresse est prouvée. Nous traitons votre demande dans le délai légal et tenons votre mandataire informé. Vous pouvez fermer cette page.',
    resend: 'Envoyer un nouveau code',
    resent: 'Un nouveau code est en route.',
  },
  drp: {
    verify:
      "Nous avons envoyé un code à la personne. Elle prouve que l'adresse est la sienne sur le lien de vérification (avec le code, et une photo d'elle si elle le souhaite).",
    working: "L'adresse est prouvée ; la demande est traitée dans le délai légal.",
    review:
      'Une partie de la réponse est vérifiée par notre délégué à la protection des données avant que rien ne soit montré ou fait, dans le délai légal.',
    ready: 'Les données sont prêtes à être téléchargées.',
    erased: 'Effacement terminé.',
    denied: (reason, ground) => `Refusée : ${reason} (${ground}).`,
    extended: (due, reason) =>
      `Nous avons besoin de plus de temps : nouvelle échéance le ${due.slice(0, 10)}. Motif : ${reason}`,
    revoked: 'Annulée à la demande du mandataire.',
    notVerified: "L'adresse n'a pas été prouvée dans les 14 jours ; rien n'a été fait. La personne peut redemander.",
    notSold:
      "Nous ne vendons pas de données personnelles et ne les partageons pas contre rémunération : il n'y a rien à refuser ni à accepter.",
  },
};

/** "About n in 10,000 comparisons of different people were wrongly matched", agreed in number. */
function falseMatchesFr(fmr: number): string {
  const n = Math.round(fmr * 1e4);
  if (n < 1) return "moins d'une comparaison sur 10 000 entre personnes différentes a été confondue";
  return n === 1
    ? 'environ 1 comparaison sur 10 000 entre personnes différentes a été confondue'
    : `environ ${n} comparaisons sur 10 000 entre personnes différentes ont été confondues`;
}
