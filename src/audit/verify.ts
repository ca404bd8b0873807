// `audit verify`: streams the stored events and digests of one store through the chain verifier, a page at a
// time, so a million events need a few megabytes.
import type { KeyObject } from 'node:crypto';
import type { AuditDigestRow, AuditStore } from '../store/audit-port.ts';
import { createChainVerifier, type VerifyReport } from './chain.ts';

const PAGE = 10_000;

export async function verifyAuditTrail(
  store: AuditStore,
  publicKeys: Map<string, KeyObject>,
  range: { fromSeq?: number; toSeq?: number } = {},
): Promise<VerifyReport> {
  const verifier = createChainVerifier({ publicKeys, ...range });
  const digests: AuditDigestRow[] = [];
  for (let after = 0; ; ) {
    const page = await store.digests({ afterSeq: after, limit: PAGE });
    digests.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  verifier.expectDigests(digests);
  let after = range.fromSeq !== undefined ? range.fromSeq - 1 : 0;
  for (;;) {
    const page = await store.list({ afterSeq: after, ...(range.toSeq !== undefined ? { toSeq: range.toSeq } : {}), limit: PAGE });
    for (const row of page) verifier.addEvent(row);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  return verifier.finish();
}
