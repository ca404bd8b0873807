// The mTLS identity stage (phase 'authenticate', `auth: mtls`): the client certificate verified in the
// TLS handshake becomes the caller, mapped to a principal by exact subject DN or SAN (domains[].mtls.principals).
import { deny } from '../../../core/denial.ts';
import type { DomainDefinition } from '../../../config/tls-schema.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn } from '../../pipeline/stage.ts';
import { IDENTITY_EXTENSION } from '../../pipeline/caller-identity.ts';
import { TLS_DOMAIN } from '../../transport.ts';
import type { VerifiedClientCert } from '../../../tls/client-cert.ts';

/**
 * What this stage records in ctx.extensions.identity. `principalArn` is set when a mapping matched;
 * `caller` carries it in the shape IAM evaluation uses (aws:PrincipalArn, aws:userid = subject DN).
 */
export interface MtlsIdentity {
  readonly kind: 'mtls';
  readonly principalArn?: string;
  readonly subjectDN: string;
  readonly issuerDN: string;
  readonly serialNumber: string;
  readonly subjectAlternativeNames: readonly string[];
  /** Which mapping matched: 'subject', 'san', or undefined (no mappings configured for the domain). */
  readonly matchedBy?: 'subject' | 'san';
  readonly caller?: { readonly arn: string; readonly accountId: string; readonly type: 'User'; readonly userid: string };
}

interface DomainPrincipals {
  readonly bySubject: ReadonlyMap<string, string>;
  readonly bySan: ReadonlyMap<string, string>;
  readonly configured: boolean;
  /** Upstream headers configured to carry the principal ARN (mtls.upstreamHeaders: principalArn). */
  readonly principalHeaders: readonly string[];
}

const compiledByDomains = new WeakMap<readonly DomainDefinition[], ReadonlyMap<string, DomainPrincipals>>();

function principalsOf(domains: readonly DomainDefinition[]): ReadonlyMap<string, DomainPrincipals> {
  let map = compiledByDomains.get(domains);
  if (map === undefined) {
    const m = new Map<string, DomainPrincipals>();
    for (const d of domains) {
      const bySubject = new Map<string, string>();
      const bySan = new Map<string, string>();
      // First match wins, as documented: later duplicates do not override.
      for (const p of d.mtls?.principals ?? []) {
        if (p.subject !== undefined && !bySubject.has(p.subject)) bySubject.set(p.subject, p.principalArn);
        if (p.san !== undefined && !bySan.has(p.san)) bySan.set(p.san, p.principalArn);
      }
      const principalHeaders = Object.entries(d.mtls?.upstreamHeaders ?? {})
        .filter(([, field]) => field === 'principalArn')
        .map(([name]) => name.toLowerCase());
      m.set(d.name, { bySubject, bySan, configured: bySubject.size + bySan.size > 0, principalHeaders });
    }
    compiledByDomains.set(domains, (map = m));
  }
  return map;
}

const ARN_ACCOUNT = /^arn:[^:]*:[^:]*:[^:]*:(\d{12}):/;

export const mtlsAuthStage: StageFactory<unknown> = Object.freeze({
  name: 'mtls-auth',
  phase: 'authenticate' as const,
  create(build: RouteBuild<unknown>): StageFn | null {
    if (build.route.auth !== 'mtls') return null;
    const domains = principalsOf(build.definition.domains ?? []);
    const accountId = build.definition.settings.accountId;
    return function mtlsAuthenticate(ctx: RequestContext) {
      const cert = ctx.identity.clientCert as VerifiedClientCert | undefined;
      if (cert === undefined) {
        return deny('UNAUTHORIZED', { detail: 'auth: mtls needs a client certificate verified by a custom domain with mtls' });
      }
      const principals = domains.get(ctx.extensions[TLS_DOMAIN] as string);
      let principalArn: string | undefined;
      let matchedBy: 'subject' | 'san' | undefined;
      if (principals?.configured) {
        principalArn = principals.bySubject.get(cert.subjectDN);
        if (principalArn !== undefined) matchedBy = 'subject';
        else {
          for (const san of cert.subjectAlternativeNames) {
            principalArn = principals.bySan.get(san);
            if (principalArn !== undefined) {
              matchedBy = 'san';
              break;
            }
          }
        }
        if (principalArn === undefined) {
          return deny('ACCESS_DENIED', { detail: `client certificate ${cert.subjectDN} (serial ${cert.serialNumber}) maps to no principal` });
        }
      }
      const identity: MtlsIdentity = {
        kind: 'mtls',
        principalArn,
        subjectDN: cert.subjectDN,
        issuerDN: cert.issuerDN,
        serialNumber: cert.serialNumber,
        subjectAlternativeNames: cert.subjectAlternativeNames,
        matchedBy,
        caller:
          principalArn === undefined
            ? undefined
            : { arn: principalArn, accountId: ARN_ACCOUNT.exec(principalArn)?.[1] ?? accountId, type: 'User', userid: cert.subjectDN },
      };
      ctx.extensions[IDENTITY_EXTENSION] = identity;
      if (principalArn !== undefined) {
        ctx.identity.userArn = principalArn;
        ctx.identity.caller = principalArn;
        for (const h of principals!.principalHeaders) ctx.req.headers[h] = principalArn;
      }
      ctx.identity.user = cert.subjectDN;
      return undefined;
    };
  },
});
