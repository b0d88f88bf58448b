import { z } from 'zod';
import { ImageInput, route } from '../route.js';
import { VeilError } from '../../errors.js';
import { needsConsent } from '../../privacy/purpose.js';
import { noticeFor } from '../../privacy/notice.js';

const Lang = z.enum(['en', 'fr']).default('en');

/** The people's side: public, rate-limited, and never revealing whether someone is enrolled. */
export const portalRoutes = [
  route({
    method: 'GET',
    url: '/v1/portal/purposes',
    tag: 'portal (public)',
    summary: 'Purposes open to consent, with the notice shown before consenting',
    auth: 'public',
    query: z.object({ lang: Lang }),
    response: z.object({
      items: z.array(
        z.object({
          key: z.string(),
          name: z.string(),
          description: z.string(),
          retention: z.string(),
          recipients: z.array(z.string()),
          notice: z.string(),
          noticeVersion: z.string(),
          controller: z.string(),
        }),
      ),
    }),
    handler: async ({ veil, query }) => ({
      items: (await veil.purposes.list())
        .filter((p) => p.status === 'active' && needsConsent(p))
        .map((p) => ({
          key: p.key,
          name: p.name,
          description: p.description,
          retention: p.retention,
          recipients: [...p.recipients],
          controller: veil.settings.controller.name,
          ...(({ text, version }) => ({ notice: text, noticeVersion: version }))(
            noticeFor(p, veil.settings.controller.name, query.lang),
          ),
        })),
    }),
  }),
  route({
    method: 'POST',
    url: '/v1/portal/enroll',
    tag: 'portal (public)',
    summary: 'Consent (the separate, unticked checkbox) and enroll a selfie; returns the signed receipt',
    auth: 'public',
    status: 201,
    body: z.object({
      purpose: z.string(),
      consent: z.union([z.literal(true), z.literal('true')]),
      selfie: ImageInput,
      email: z.string().email().optional(),
      language: Lang,
    }),
    response: z.object({
      subjectId: z.string(),
      consentId: z.string(),
      receipt: z.record(z.string(), z.unknown()),
      quality: z.record(z.string(), z.number()),
    }),
    handler: async ({ veil, body }) => {
      const p = await veil.purposes.active(body.purpose);
      if (!needsConsent(p))
        throw new VeilError('INVALID_INPUT', 'This purpose does not take enrollment through the portal.');
      // Check the photo first: a failed quality check records no consent and no person.
      const [q] = await veil.gallery.checkEnrollable([body.selfie]);
      const notice = noticeFor(p, veil.settings.controller.name, body.language);
      const actor = { kind: 'public' as const, id: 'portal' };
      const { consent, receipt } = await veil.consents.give(
        {
          purpose: p.key,
          noticeText: notice.text,
          noticeVersion: notice.version,
          method: 'portal',
          collector: 'self-service portal',
          ...(body.email ? { contactEmail: body.email } : {}),
        },
        actor,
      );
      try {
        await veil.gallery.enroll({ purpose: p.key, consentId: consent.id, images: [body.selfie] }, actor);
      } catch (e) {
        // Nothing half-written: a consent without its enrollment is withdrawn at once.
        await veil.consents.withdraw(consent.id, actor);
        throw e;
      }
      return {
        subjectId: consent.subjectId,
        consentId: consent.id,
        receipt,
        quality: { faceSize: Math.round(q!.faceSize), sharpness: Math.round(q!.sharpness), yaw: Math.round(q!.yaw) },
      };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/actions',
    tag: 'portal (public)',
    summary: 'One-click action after verification (erase, restrict, object, withdraw consent), carried out at once',
    auth: 'public',
    params: z.object({ id: z.string() }),
    body: z.object({ token: z.string(), kind: z.enum(['erasure', 'restriction', 'objection', 'withdraw-consent']) }),
    response: z.object({
      requestId: z.string(),
      downloadToken: z.string(),
      state: z.string(),
      outcome: z.record(z.string(), z.unknown()).nullable(),
      certificate: z.record(z.string(), z.unknown()).nullable(),
    }),
    handler: async ({ veil, params, body }) => {
      const r = await veil.rights.followUp(params.id, body.token, body.kind);
      return {
        requestId: r.requestId,
        downloadToken: r.downloadToken,
        state: r.request.state,
        outcome: r.request.outcome,
        certificate: r.certificate ?? null,
      };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/self-service',
    tag: 'portal (public)',
    summary: 'Answer a verified access or portability request at once, for the requester',
    auth: 'public',
    params: z.object({ id: z.string() }),
    body: z.object({ token: z.string() }),
    response: z.object({ state: z.string(), outcome: z.record(z.string(), z.unknown()).nullable() }),
    handler: async ({ veil, params, body }) => {
      const mine = await veil.rights.outcomeFor(params.id, body.token);
      if (mine.kind !== 'access' && mine.kind !== 'portability')
        throw new VeilError(
          'INVALID_STATE',
          'Only access and portability are answered without an operator; use the one-click actions for the others.',
        );
      if (mine.state === 'fulfilled') return { state: mine.state, outcome: mine.outcome };
      const r = await veil.rights.fulfil(params.id, { kind: 'public', id: 'requester' });
      return { state: r.request.state, outcome: r.request.outcome };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/stats',
    tag: 'oversight',
    summary: 'Dashboard figures: gallery sizes, searches per day, rights queue, handling times',
    auth: ['operator', 'dpo', 'auditor'],
    response: z.record(z.string(), z.unknown()),
    handler: async ({ veil }) => {
      const purposes = await veil.purposes.list();
      const since = new Date(veil.clock.now().getTime() - 14 * 86_400_000).toISOString();
      const searches = await veil.store.db
        .selectFrom('searches')
        .select(['purpose_id', 'at'])
        .where('at', '>=', since)
        .execute();
      const perDay = new Map<string, number>();
      for (const s of searches) {
        const k = `${s.at.slice(0, 10)}|${purposes.find((p) => p.id === s.purpose_id)?.key ?? s.purpose_id}`;
        perDay.set(k, (perDay.get(k) ?? 0) + 1);
      }
      const closed = (await veil.rights.list()).filter((r) => r.closedAt && r.state === 'fulfilled');
      return {
        purposes: purposes.map((p) => ({
          key: p.key,
          name: p.name,
          status: p.status,
          templates: veil.index.size(p.id),
        })),
        searchesPerDay: [...perDay]
          .map(([k, n]) => ({ day: k.split('|')[0], purpose: k.split('|')[1], searches: n }))
          .sort((a, b) => a.day!.localeCompare(b.day!)),
        rights: await veil.rights.counts(),
        handlingDays: closed.map((r) => ({
          id: r.id,
          kind: r.kind,
          days:
            Math.round(((new Date(r.closedAt!).getTime() - new Date(r.receivedAt).getTime()) / 86_400_000) * 10) / 10,
          onTime: r.closedAt! <= (r.extendedDueAt ?? r.dueAt),
        })),
        breachesOverdue: (await veil.breaches.list({ overdue: true })).length,
        ordersOverdue: (await veil.orders.list({ overdue: true })).length,
      };
    },
  }),
];
