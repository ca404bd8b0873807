// Gives memory back to the system after a peak that will not come again: the start of a node (module
// loading, the first compile) and the deploy of a large definition (thousands of routes leave tens of MB of
// parse garbage: YAML nodes, validation objects). An idle or lightly loaded gateway may not allocate enough
// to trigger a full collection for hours, so without this the process keeps the peak as resident memory.
//
// A plain full collection (gc()) frees the garbage but keeps the pages: old space stays fragmented and the
// young generation keeps the size it grew to while the peak was built (two 16 MB semi-spaces). V8's
// low-memory collection (the one a heap snapshot or the inspector's HeapProfiler.collectGarbage runs)
// also compacts old space and shrinks the young generation; it grows back under load within a few
// scavenges. With 10,000 routes this alone took RSS at rest from 186 to about 117 MB (docs/performance.md,
// "Memory at rest").
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collector = () => Promise<void>;

let collect: Collector | null | undefined;
let pending: NodeJS.Timeout | undefined;

async function lowMemoryCollector(): Promise<Collector | null> {
  try {
    // In-process session: no port is opened and nothing outside the process can attach through it.
    const { Session } = await import('node:inspector');
    return () =>
      new Promise<void>((resolve, reject) => {
        const session = new Session();
        session.connect();
        session.post('HeapProfiler.collectGarbage', (err) => {
          // Disconnecting inside the callback would re-enter the inspector: leave it first.
          setImmediate(() => {
            session.disconnect();
            if (err) reject(err);
            else resolve();
          });
        });
      });
  } catch {
    return null; // a node built without the inspector
  }
}

function fullCollector(): Collector | null {
  try {
    // The documented way to reach gc() without starting node with --expose-gc.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // The second collection compacts the pages the first one left fragmented.
    return async () => {
      gc();
      gc();
    };
  } catch {
    return null;
  }
}

async function collector(): Promise<Collector | null> {
  if (collect === undefined) collect = (await lowMemoryCollector()) ?? fullCollector();
  return collect;
}

/**
 * Schedules one memory-reducing full garbage collection (a pause of tens of ms on a large heap) off the
 * current tick. Calls while one is pending are folded into it, and the delay restarts: the collection runs
 * once the burst of work (a deploy, the rest of the start) is over.
 */
export function collectGarbageSoon(delayMs = 200): void {
  if (pending) clearTimeout(pending);
  pending = setTimeout(() => {
    pending = undefined;
    void collector().then(
      (run) => run?.().catch(() => fullCollector()?.()),
      () => undefined,
    );
  }, delayMs).unref();
}
