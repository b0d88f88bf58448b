#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step), so `veil` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/main.ts');
process.exitCode = await run(process.argv.slice(2));
