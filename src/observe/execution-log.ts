// Execution logs, per stage, like API Gateway's (levels OFF, ERROR, INFO; off by default): why a request was
// refused (its gateway response type and the denial's private detail), in AWS's wording where it has one,
// through the application logger under the request id. Never secrets: lines pass the audit redaction.
import type { Definition } from '../config/schema.ts';
import type { RequestContext } from '../gateway/pipeline/context.ts';
import type { Logger } from './logger.ts';
import { redactSecrets } from '../audit/redact.ts';

export type ExecutionLogLevel = 'OFF' | 'ERROR' | 'INFO';

/** AWS truncates execution log events at 1024 bytes. */
const MAX_LINE = 1024;
const clip = (line: string) => {
  const clean = redactSecrets(line) as string;
  return clean.length > MAX_LINE ? `${clean.slice(0, MAX_LINE - 3)}...` : clean;
};

export interface ExecutionLog {
  /** Learns the level of each API stage from the installed definition. */
  configure(definition: Definition): void;
  onRequestEnd(ctx: RequestContext): void;
}

export function createExecutionLog(parent: Logger): ExecutionLog {
  const logger = parent.child({ component: 'execution' });
  let levels = new Map<string, ExecutionLogLevel>();

  return {
    configure(definition) {
      const next = new Map<string, ExecutionLogLevel>();
      for (const api of definition.apis) {
        for (const [name, stage] of Object.entries(api.stages)) {
          const level = (stage as { executionLog?: { level?: ExecutionLogLevel } }).executionLog?.level ?? 'OFF';
          if (level !== 'OFF') next.set(`${api.name}\u0000${name}`, level);
        }
      }
      levels = next;
    },
    onRequestEnd(ctx) {
      // The common case (no stage logs) costs one size check.
      if (levels.size === 0 || !ctx.stage) return;
      const level = levels.get(`${ctx.apiName}\u0000${ctx.stage}`);
      if (!level) return;
      const failed = ctx.status >= 400;
      if (level === 'ERROR' && !failed) return;
      const lines = executionLines(ctx, level);
      const entry = { requestId: ctx.requestId, api: ctx.apiName, stage: ctx.stage, status: ctx.status, lines };
      if (ctx.status >= 500) logger.error(entry, lines[lines.length - 1]);
      else if (failed) logger.warn(entry, lines[lines.length - 1]);
      else logger.info(entry, lines[lines.length - 1]);
    },
  };
}

/** The lines AWS writes for a request, in its words (aws-api-gateway-semantics.md 10.2). */
export function executionLines(ctx: RequestContext, level: ExecutionLogLevel): string[] {
  const lines: string[] = [];
  if (level === 'INFO') {
    lines.push(`Extended Request Id: ${ctx.extendedRequestId}`);
    lines.push(`Starting execution for request: ${ctx.requestId}`);
    lines.push(`HTTP Method: ${ctx.httpMethod}, Resource Path: ${ctx.resourcePath || ctx.stagePath}`);
  }
  const type = ctx.error.responseType;
  if (ctx.denialDetail) lines.push(clip(ctx.denialDetail));
  if (ctx.integration.error) {
    lines.push(
      clip(/timeout|timed out/i.test(ctx.integration.error)
        ? 'Execution failed due to a timeout error'
        : `Execution failed due to an error: ${ctx.integration.error}`),
    );
  }
  if (type) lines.push(`Gateway response type: ${type} with status code: ${ctx.status}`);
  lines.push(`Method completed with status: ${ctx.status}`);
  return lines;
}
