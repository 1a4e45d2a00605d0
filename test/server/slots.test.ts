/** SlotPool: free slots first, then FIFO waiters up to maxQueue, Overloaded beyond; abort leaves the queue; close rejects waiters. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Overloaded, QueueClosed, SlotPool } from '../../src/server/slots.js';

test('free slots, FIFO hand-off, bounded queue', async () => {
  const p = new SlotPool(['a', 'b'], 2);
  const got = [await p.acquire(), await p.acquire()].sort();
  assert.deepEqual(got, ['a', 'b']);
  assert.equal(p.busy, 2);
  const order: string[] = [];
  const w1 = p.acquire().then((s) => order.push(`w1:${s}`));
  const w2 = p.acquire().then((s) => order.push(`w2:${s}`));
  assert.equal(p.queued, 2);
  await assert.rejects(p.acquire(), (e: unknown) => e instanceof Overloaded && e.queued === 2);
  p.release('b');
  p.release('a');
  await Promise.all([w1, w2]);
  assert.deepEqual(order, ['w1:b', 'w2:a']);
  assert.equal(p.queued, 0);
  assert.throws(() => p.release('c'), RangeError);
  p.release('a');
  assert.throws(() => p.release('a'), RangeError, 'double release');
});

test('an aborted waiter leaves the queue; close rejects the rest and refuses new requests', async () => {
  const p = new SlotPool([1], 3);
  const s = await p.acquire();
  const ac = new AbortController();
  const w1 = p.acquire(ac.signal);
  const w2 = p.acquire();
  ac.abort(new Error('gone'));
  await assert.rejects(w1, /gone/);
  assert.equal(p.queued, 1);
  p.close();
  await assert.rejects(w2, QueueClosed);
  await assert.rejects(p.acquire(), QueueClosed);
  p.release(s);
  assert.equal(p.busy, 0);
});
