import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 10: authorized agents (the Data Rights Protocol). `drp_agents` stands in for the
 * protocol's service directory: each agent's Ed25519 verify key and the one origin its status
 * callbacks may go to, registered by an admin, and the hash of its pair-wise bearer token. A rights
 * request filed by an agent names it (`rights_requests.agent_id`); `drp_requests` keeps what the
 * protocol adds (the action asked for, the agent's own id, the callback, the signed message's hash
 * that refuses replays); `drp_callbacks` is the outbox of status callbacks one process sends.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('drp_agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('verify_key', 'text', (c) => c.notNull())
    .addColumn('callback_origin', 'text')
    .addColumn('web_url', 'text')
    .addColumn('token_hash', 'text')
    .addColumn('token_issued_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('drp_agents_token').unique().on('drp_agents').column('token_hash').execute();
  await db.schema.alterTable('rights_requests').addColumn('agent_id', 'text').execute();
  await db.schema
    .createTable('drp_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('regime', 'text')
    .addColumn('agent_request_id', 'text')
    .addColumn('callback_url', 'text')
    .addColumn('message_hash', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('denied_reason', 'text')
    .execute();
  // An identical signed message is one request: a replay is refused, even two at once.
  await db.schema
    .createIndex('drp_requests_message')
    .unique()
    .on('drp_requests')
    .columns(['agent_id', 'message_hash'])
    .execute();
  await db.schema
    .createTable('drp_callbacks')
    .addColumn('seq', t.serial, (c) => c.primaryKey())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    // The request's state when the change happened, and 'extended' for a new deadline.
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_at', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .addColumn('last_result', 'text')
    .execute();
  await db.schema.createIndex('drp_callbacks_due').on('drp_callbacks').columns(['status', 'next_at']).execute();
}
