import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientKey } from '../../src/ops/client-key.js';

test('per-address limits key IPv4 by address and IPv6 by its /64', () => {
  assert.equal(clientKey('198.51.100.7'), '198.51.100.7');
  // Every address of one /64 is one client, however written.
  const k = '2001:db8:1:2::/64';
  for (const ip of [
    '2001:db8:1:2::1',
    '2001:0db8:0001:0002:ffff:ffff:ffff:ffff',
    '2001:DB8:1:2:abcd::9',
    '2001:db8:1:2:0:0:0:0',
    '2001:db8:1:2::1%eth0',
    '2001:db8:1:2:3:4:192.0.2.1',
  ])
    assert.equal(clientKey(ip), k, ip);
  // The next /64 is another client.
  assert.equal(clientKey('2001:db8:1:3::1'), '2001:db8:1:3::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey('fe80::1'), 'fe80:0:0:0::/64');
  // IPv4-mapped IPv6 is the IPv4 client.
  assert.equal(clientKey('::ffff:198.51.100.7'), '198.51.100.7');
  assert.equal(clientKey('::ffff:c633:6407'), '198.51.100.7');
  // Not an address: passed through.
  assert.equal(clientKey('unknown'), 'unknown');
});
