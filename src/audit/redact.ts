// The one redaction of secrets for audit records (requestParameters, responseElements): secret-named members
// and values shaped like Portcullis credentials become "[REDACTED]", and oversized elements are replaced by a
// note, as CloudTrail caps each at 100 KB.

export const REDACTED = '[REDACTED]';
export const MAX_ELEMENT_BYTES = 100 * 1024;

/** Members that hold a secret whatever their type. */
const ALWAYS_SECRET = /secret|password|passphrase|private_?key|authorization|cookie|credential|^hash$|^previous_?hash$|signature$/i;
/** Members that are secrets when they are strings (`token: {id, name}` is a record; `token: "pcat_..."` is not). */
const SECRET_WHEN_STRING = /^(value|values|token|key|api_?key|api_?key_?value|access_?token|refresh_?token|id_?token|bearer)$/i;
/** Credentials Portcullis issues (admin tokens, API keys, access-key secrets) and bearer headers, wherever they appear. */
const SECRET_VALUE = /\b(pcat_[0-9A-Za-z]{8,}|pck_[0-9A-Za-z]{8,}|Bearer\s+\S+)/g;
const MAX_DEPTH = 32;

export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(SECRET_VALUE, REDACTED);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === null || v === undefined) out[key] = v;
    else if (ALWAYS_SECRET.test(key)) out[key] = REDACTED;
    else if (SECRET_WHEN_STRING.test(key) && typeof v !== 'object') out[key] = REDACTED;
    else if (SECRET_WHEN_STRING.test(key) && Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v.map(() => REDACTED);
    else out[key] = redactSecrets(v, depth + 1);
  }
  return out;
}

/** Redacts, then caps the serialized size; null stays null (CloudTrail's "empty"). */
export function auditElement(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const redacted = redactSecrets(value);
  const size = Buffer.byteLength(JSON.stringify(redacted) ?? '');
  return size > MAX_ELEMENT_BYTES ? { truncated: true, sizeBytes: size } : redacted;
}
