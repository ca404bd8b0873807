// What the control plane needs from the data plane: compile a validated definition into a snapshot
// (rejecting it whole if it cannot be served) and install it atomically. Implemented by the gateway.
import type { Definition } from '../config/schema.ts';

export interface CompiledSnapshot {
  /** Revision number this snapshot was built from (0 before the first install). */
  readonly revision: number;
  readonly routeCount: number;
  readonly apiCount: number;
}

export interface SnapshotInstaller {
  /**
   * Compiles a schema-valid definition. Throws DefinitionError (src/config/load.ts) when it cannot be
   * served (for example an access-log format with an unknown variable). Never installs anything.
   */
  compile(definition: Definition, revision: number): CompiledSnapshot;
  /** Swaps the snapshot in with a single assignment; requests in flight finish on the old one. */
  install(snapshot: CompiledSnapshot): void;
  /** The installed snapshot, if any. */
  current(): CompiledSnapshot | undefined;
}
