// Decides which versioned migration steps a database still needs; shared by the SQLite and PostgreSQL
// adapters so both refuse the same inconsistent states with the same messages.

/** Versions must be exactly 1..n in list order, so version N names the same step in every build. */
export function checkMigrationList(migrations: readonly { version: number; name: string }[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list is out of order: entry ${i} has version ${m.version}`);
  });
}

/**
 * Compares what the database recorded with what this build knows. A database migrated by a newer build, or a
 * step whose name changed, is refused: running on a schema we do not understand could corrupt it.
 */
export function pendingMigrations<M extends { version: number; name: string }>(
  migrations: readonly M[],
  done: readonly { version: number; name: string }[],
  what: string,
): M[] {
  const known = migrations.length;
  for (const row of done) {
    const version = Number(row.version);
    if (version > known) {
      throw new Error(
        `${what} schema is at version ${version}, newer than this Portcullis build knows (${known}); upgrade Portcullis`,
      );
    }
    const expected = migrations[version - 1];
    if (!expected || expected.name !== row.name) {
      throw new Error(`${what} migration ${version} was recorded as "${row.name}" but this build names it "${expected?.name}"`);
    }
  }
  const doneVersions = new Set(done.map((r) => Number(r.version)));
  return migrations.filter((m) => !doneVersions.has(m.version));
}
