// The mTLS identity stage (phase 'authenticate', `auth: mtls`): the client certificate verified in the
// TLS handshake becomes the caller, mapped to a principal by exact subject DN or SAN (domains[].mtls.principals).
// A mapped principal is authorized as an IAM caller: its identity policies (the IAM directory) and the
// resource policy decide in the authorize stage; an ARN the directory does not know has no identity policies.
import { deny } from '../../../core/denial.ts';
import type { DomainDefinition } from '../../../config/tls-schema.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn } from '../../pipeline/stage.ts';
import { IDENTITY_EXTENSION, type IamCaller } from '../../pipeline/caller-identity.ts';
import type { CompiledPolicy } from '../../../security/iam/index.ts';
import { certificateCallerOf } from '../../../iam/iam-directory.ts';
import type { IamAuthDeps } from '../iam-auth/stage.ts';
import { TLS_DOMAIN } from '../../transport.ts';
import type { VerifiedClientCert } from '../../../tls/client-cert.ts';

/**
 * What this stage records in ctx.extensions.identity. `principalArn` is set when a mapping matched;
 * `caller` and `policies` then make the authorize stage evaluate the request as for an IAM caller
 * (Table A/B with the resource policy). Without mappings the certificate alone is an Allow (as Cognito).
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
  readonly caller?: IamCaller;
  /** The principal's identity policies; empty when the ARN names no principal of the IAM directory. */
  readonly policies?: readonly CompiledPolicy[];
  /** Whether the IAM directory knows the principal. */
  readonly known?: boolean;
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

export const mtlsAuthStage: StageFactory<Partial<IamAuthDeps>> = Object.freeze({
  name: 'mtls-auth',
  phase: 'authenticate' as const,
  create(build: RouteBuild<Partial<IamAuthDeps>>): StageFn | null {
    if (build.route.auth !== 'mtls') return null;
    const domains = principalsOf(build.definition.domains ?? []);
    const accountId = build.definition.settings.accountId;
    const directory = build.deps?.iam?.directory;
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
      let caller: IamCaller | undefined;
      let policies: readonly CompiledPolicy[] | undefined;
      const known = principalArn === undefined ? undefined : directory?.principal(principalArn);
      if (known !== undefined) {
        caller = certificateCallerOf(known.record, cert.serialNumber.replaceAll(':', ''));
        policies = known.policies;
      } else if (principalArn !== undefined) {
        // Not (or not yet) an IAM principal: it has no identity policies; a resource policy naming it may allow it.
        const type = principalArn.includes(':role/') || principalArn.includes(':assumed-role/') ? 'AssumedRole' : 'User';
        caller = Object.freeze({ arn: principalArn, accountId: ARN_ACCOUNT.exec(principalArn)?.[1] ?? accountId, type, userid: cert.subjectDN });
        policies = [];
      }
      const identity: MtlsIdentity = {
        kind: 'mtls',
        principalArn,
        subjectDN: cert.subjectDN,
        issuerDN: cert.issuerDN,
        serialNumber: cert.serialNumber,
        subjectAlternativeNames: cert.subjectAlternativeNames,
        matchedBy,
        caller,
        policies,
        known: principalArn === undefined ? undefined : known !== undefined,
      };
      ctx.extensions[IDENTITY_EXTENSION] = identity;
      if (caller !== undefined) {
        ctx.identity.userArn = caller.arn;
        ctx.identity.caller = caller.userid;
        ctx.identity.accountId = caller.accountId;
        for (const h of principals!.principalHeaders) ctx.req.headers[h] = principalArn!;
      }
      ctx.identity.user = cert.subjectDN;
      return undefined;
    };
  },
});
