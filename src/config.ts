import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { VeilError } from './errors.js';

/**
 * Configuration from environment variables and an optional JSON file (`VEIL_CONFIG`), validated at
 * start with messages that name the setting. Every value has a safe default for the embedded mode.
 */
const ConfigSchema = z.object({
  dataDir: z.string().min(1).default('./data'),
  host: z.string().min(1).default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional(),
  audit: z
    .object({
      checkpointEvery: z.coerce.number().int().min(1).default(1000),
      checkpointSeconds: z.coerce.number().int().min(1).default(60),
    })
    .default({ checkpointEvery: 1000, checkpointSeconds: 60 }),
  oversight: z
    .object({
      controller: z.object({ name: z.string().min(1), contact: z.string().min(3) }).optional(),
      dpo: z.object({ name: z.string().min(1), email: z.string().email() }).optional(),
      transfers: z.array(z.string()).optional(),
      searchLogRetention: z
        .string()
        .regex(/^P(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/)
        .optional(),
    })
    .default({}),
});

export type Config = z.infer<typeof ConfigSchema> & { readonly sqlitePath: string };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let file: Record<string, unknown> = {};
  if (env['VEIL_CONFIG']) {
    try {
      file = JSON.parse(readFileSync(env['VEIL_CONFIG'], 'utf8'));
    } catch (e) {
      throw new VeilError(
        'INVALID_INPUT',
        `VEIL_CONFIG ${env['VEIL_CONFIG']} is not a readable JSON file: ${(e as Error).message}`,
      );
    }
  }
  const fromEnv = Object.fromEntries(
    Object.entries({
      dataDir: env['VEIL_DATA_DIR'],
      host: env['VEIL_HOST'],
      port: env['VEIL_PORT'],
      databaseUrl: env['DATABASE_URL'],
    }).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = ConfigSchema.safeParse({ ...file, ...fromEnv });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new VeilError('INVALID_INPUT', `Invalid configuration: ${issues}`);
  }
  const dataDir = resolve(parsed.data.dataDir);
  return { ...parsed.data, dataDir, sqlitePath: join(dataDir, 'veil.db') };
}
