// The built-in rules for classic attacks and regressions, as alarm definitions: each rule is an ordinary alarm
// (named `rule:<name>`) whose defaults the `monitoring.rules` section can change or turn off.
import { AlarmSchema, type AlarmDefinition, type MonitoringDefinition, type RuleSettings } from './schema.ts';

type RuleName = keyof MonitoringDefinition['rules'];

/** Defaults per rule; `threshold` replaces an anomaly band by a static threshold when given. */
const RULES: Readonly<Record<RuleName, Omit<AlarmDefinition, 'name' | 'notify' | 'actions'> & { description: string }>> = {
  credentialStuffing: {
    description: 'Many authentication failures from one source address (credential stuffing, password spraying).',
    metric: 'AuthFailures', per: 'sourceIp', periodSeconds: 60, evaluationPeriods: 1, threshold: 20, comparison: 'GreaterThanOrEqualToThreshold',
  },
  keyEnumeration: {
    description: 'One source address presenting many different failing credentials (API key enumeration).',
    metric: 'DistinctFailedCredentials', per: 'sourceIp', periodSeconds: 60, evaluationPeriods: 1, threshold: 10, comparison: 'GreaterThanOrEqualToThreshold',
  },
  distributedKeyAttack: {
    description: 'Failures on one API key from many source addresses.',
    metric: 'DistinctFailedSourceIps', per: 'apiKey', periodSeconds: 60, evaluationPeriods: 1, threshold: 10, comparison: 'GreaterThanOrEqualToThreshold',
  },
  keySpread: {
    description: 'An API key used from an unusual number of source addresses, against its own learned baseline.',
    metric: 'DistinctSourceIps', per: 'apiKey', periodSeconds: 300, evaluationPeriods: 1, comparison: 'GreaterThanOrEqualToThreshold',
    anomalyBand: { width: 3, trainingPeriods: 12, direction: 'upper', minWidth: 3 },
  },
  errorSpike: {
    description: 'A sudden rise of the 5xx ratio of an API against its learned baseline.',
    metric: '5XXErrorRate', per: 'api', periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, comparison: 'GreaterThanOrEqualToThreshold',
    anomalyBand: { width: 3, trainingPeriods: 15, direction: 'upper', minWidth: 0.05 },
    treatMissingData: 'missing',
  },
  latencySpike: {
    description: 'A sudden rise of the average latency of an API against its learned baseline.',
    metric: 'Latency', per: 'api', periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 2, comparison: 'GreaterThanOrEqualToThreshold',
    anomalyBand: { width: 3, trainingPeriods: 15, direction: 'upper', minWidth: 25 },
    treatMissingData: 'missing',
  },
};

export const RULE_NAMES = Object.keys(RULES) as RuleName[];

/** The alarms a monitoring section asks for: enabled rules first, then the user's alarms. */
export function alarmsOf(monitoring: MonitoringDefinition): AlarmDefinition[] {
  const out: AlarmDefinition[] = [];
  for (const name of RULE_NAMES) {
    const settings: RuleSettings | undefined = monitoring.rules[name];
    if (settings === false) continue;
    const { anomalyBand, ...base } = RULES[name];
    const useThreshold = settings?.threshold !== undefined;
    out.push(
      AlarmSchema.parse({
        ...base,
        ...(useThreshold ? { threshold: settings!.threshold } : anomalyBand ? { anomalyBand } : {}),
        name: `rule-${name}`,
        ...(settings?.periodSeconds !== undefined ? { periodSeconds: settings.periodSeconds } : {}),
        notify: settings?.notify ?? ['log'],
        actions: settings?.actions ?? {},
      }),
    );
  }
  return [...out, ...monitoring.alarms];
}
