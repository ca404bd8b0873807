// A large definition (thousands of routes) leaves tens of MB of parse garbage (YAML nodes, validation
// objects) in V8's old space. An idle or lightly loaded gateway may not allocate enough to trigger a full
// collection for hours, so the process keeps the parse peak as resident memory. One full collection shortly
// after installing a large snapshot gives it back (10,000 routes: heap in use 130 -> 51 MB, RSS 225 -> 196 MB).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null | undefined;

function collector(): (() => void) | null {
  if (collect === undefined) {
    try {
      // The documented way to reach gc() without starting node with --expose-gc.
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/** Schedules one full garbage collection (a pause of tens of ms on a large heap) off the current tick. */
export function collectGarbageSoon(delayMs = 200): void {
  setTimeout(() => collector()?.(), delayMs).unref();
}
