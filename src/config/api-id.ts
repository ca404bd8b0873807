// API ids: the 10-character id AWS shows in ARNs and $context.apiId, derived from the API name when the
// definition does not set one, so it stays the same across deployments and gateway nodes.
import { createHash } from 'node:crypto';

const ID_SPACE = 36n ** 10n;

/** 10 lowercase base36 characters from SHA-256(name); stable for a given name. */
export function deriveApiId(name: string): string {
  const digest = createHash('sha256').update(name, 'utf8').digest();
  // 64 bits reduced modulo 36^10 (about 2^51.7): the bias is below 2^-12, irrelevant for an identifier.
  return (digest.readBigUInt64BE(0) % ID_SPACE).toString(36).padStart(10, '0');
}
