import { actors, type Actor, type Role } from '../src/auth/actor.js';

/** A key bound to some purposes (or every one), for tests of what each role may do. */
export function keyActor(role: Role, purposes: '*' | readonly string[], id = `key_${role}`): Actor {
  return actors.apiKey({ id, role, purposes: purposes === '*' ? ['*'] : purposes });
}

/** An admin key on every purpose: for rule tests where authorization is not the rule under test. */
export const anyPurposeAdmin: Actor = keyActor('admin', '*', 'key_operator');
