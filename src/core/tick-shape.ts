// Keeps process.nextTick fast for the life of the process (Node 20, V8 11.3).
//
// nextTick builds each queue entry with an object literal whose first keys are computed symbols
// (`{ [async_id_symbol]: id, [trigger_async_id_symbol]: trigger, callback, args }`). V8 keeps the feedback
// for such a key as "one map, or megamorphic", and holds that map weakly. When a full collection runs
// while no queue entry is alive, the entry's hidden classes die; the next entry gets new ones, the recorded
// map no longer matches, and the site turns megamorphic for good: every later nextTick adds those two
// properties through the runtime (about 170 ns more per call, measured here: 80-90 ns per nextTick before,
// 250-270 ns after). A request through the gateway queues about ten ticks inside Node's HTTP and stream
// code, so a gateway that had served a request before such a collection (our own after start and after
// large deploys, or V8's memory reducer when traffic pauses) lost 5 to 7% of its throughput until restart
// (docs/performance.md, "The nextTick collection trap").
//
// One live entry keeps those hidden classes alive, so the recorded map stays the one every entry gets.
// The entry is taken from nextTick itself through an async hook enabled for that one call.
import { createHook } from 'node:async_hooks';

let pinned: object | null | undefined;

function noop(): void {}

/**
 * Retains one real nextTick queue entry (idempotent). Returns it, or null where async hooks are
 * unavailable (then nothing is pinned and nextTick behaves as it would anyway).
 */
export function pinNextTickShape(): object | null {
  if (pinned !== undefined) return pinned;
  let entry: object | null = null;
  try {
    const hook = createHook({
      init(_asyncId, type, _triggerAsyncId, resource) {
        if (type === 'TickObject' && entry === null) entry = resource;
      },
    });
    hook.enable();
    try {
      process.nextTick(noop);
    } finally {
      hook.disable();
    }
  } catch {
    entry = null;
  }
  pinned = entry;
  return pinned;
}
