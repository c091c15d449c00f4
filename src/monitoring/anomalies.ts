/**
 * The anomaly rules, as pure functions of what a flush knows about one key: the networks it was seen from
 * (and its recent history of them), its counts in the current clock hour, and its own hourly baseline; and
 * about one consumer: its admissions this clock hour across all its keys, and its own hourly baseline.
 */
import { parseIp } from "../util/ip";
import { DAY_MS } from "../util/time";
import type { MonitoringConfig } from "./config";
import type { Observation } from "./usage";

export const ALERT_RULES = [
  "new_network",
  "traffic_spike",
  "refusal_burst",
  "revoked_key_use",
  "consumer_traffic_spike",
] as const;
export type AlertRule = (typeof ALERT_RULES)[number];

export interface Finding {
  rule: AlertRule;
  /** What tripped the rule. Network prefixes only, never a full client address, key or hash. */
  details: Record<string, unknown>;
}

/**
 * A key's networks are remembered this long; one unseen for longer is "new" again. It is also the age past
 * which a key with no history counts as dormant: a younger key with no history cannot have been admitted
 * from any network yet (its history would still hold it), so its first use is not news.
 */
export const NETWORK_HISTORY_DAYS = 30;
const NETWORK_HISTORY_MS = NETWORK_HISTORY_DAYS * DAY_MS;

/** Whether a key is older than its network history can be, so an empty history means dormant, not new. */
export function keyPredatesHistory(createdAt: number, now: number): boolean {
  return createdAt <= now - NETWORK_HISTORY_MS;
}
/** traffic_spike needs at least this much of the key's own history, so a new key has no "spike". */
const BASELINE_MIN_HISTORY_HOURS = 24;
/** The baseline is the key's average admissions per hour over at most this many hours before the current one. */
export const BASELINE_WINDOW_HOURS = 168;

/** Refusals that say the key is being used from where, or for what, its owner did not allow. */
const RESTRICTION_REFUSALS = [
  "ip_not_allowed",
  "origin_not_allowed",
  "route_not_allowed",
  "insufficient_scope",
] as const;
/** Refusals that say a key that should be out of use is still being presented. */
const DEAD_KEY_REFUSALS = ["key_revoked", "key_expired"] as const;

/** The network an address belongs to for monitoring: its IPv4 /24 or IPv6 /48 (IPv4-mapped IPv6 as IPv4). */
export function ipNetwork(ip: string): string | null {
  const bytes = parseIp(ip);
  if (!bytes) return null;
  const mapped =
    bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  const v4 = bytes.length === 4 ? bytes : mapped ? bytes.slice(12) : null;
  if (v4) return `ip:${v4[0]}.${v4[1]}.${v4[2]}.0/24`;
  const groups = [0, 2, 4].map((i) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `ip:${groups.join(":")}::/48`;
}

/** The network names of one observation: 'ip:…', 'asn:…', 'country:…' (those that are known). */
export function networksOf(o: Observation): { ip: string | null; asn: string | null; country: string | null } {
  return {
    ip: o.ip === null ? null : ipNetwork(o.ip),
    asn: o.asn === null ? null : `asn:${o.asn}`,
    country: o.country === null ? null : `country:${o.country}`,
  };
}

/**
 * The networks in `observed` (admissions only) that the key's recent history does not hold. A key with no
 * history has nothing new when it is younger than the history window (its first use sets the baseline);
 * when it is older (`predatesHistory`), an empty history means it was dormant, or used only before the
 * window, so every network it is used from now is new. A kind the history has never recorded (e.g. ASN in
 * local dev) is not compared. A new address block inside an ASN the key already uses is ordinary churn,
 * not a new network.
 * @param predatesHistory the key was created more than NETWORK_HISTORY_DAYS ago (see keyPredatesHistory)
 */
export function newNetworks(
  history: ReadonlySet<string>,
  observed: readonly Observation[],
  predatesHistory: boolean,
): string[] {
  if (history.size === 0 && !predatesHistory) return [];
  const kinds =
    history.size === 0
      ? new Set(["ip", "asn", "country"])
      : new Set([...history].map((n) => n.slice(0, n.indexOf(":"))));
  const found = new Set<string>();
  for (const o of observed) {
    const n = networksOf(o);
    const knownAsn = n.asn !== null && history.has(n.asn);
    if (n.ip && kinds.has("ip") && !knownAsn && !history.has(n.ip)) found.add(n.ip);
    if (n.asn && kinds.has("asn") && !history.has(n.asn)) found.add(n.asn);
    if (n.country && kinds.has("country") && !history.has(n.country)) found.add(n.country);
  }
  return [...found].sort();
}

/** Admissions in the baseline window before this hour, and how many hours of history it spans. */
export interface Baseline {
  admissions: number;
  hours: number;
}

export interface KeyHour {
  /** This clock hour's counts for the key, by outcome, across every isolate that has flushed. */
  hourCounts: Readonly<Record<string, number>>;
  baseline: Baseline | null;
  newNetworks: readonly string[];
  /** The key predates its history window and has nothing in it: said in the alert, as context. */
  noRecentHistory?: boolean;
}

/**
 * The details of a traffic spike, or null: `admissions` this hour above `trafficMultiple` × the hourly average
 * of a baseline of at least BASELINE_MIN_HISTORY_HOURS, and at least `trafficMinRequests`.
 */
function trafficSpike(admissions: number, baseline: Baseline | null, config: MonitoringConfig) {
  if (!baseline || baseline.hours < BASELINE_MIN_HISTORY_HOURS || admissions < config.trafficMinRequests) return null;
  const perHour = baseline.admissions / baseline.hours;
  if (admissions <= config.trafficMultiple * perHour) return null;
  return {
    admissions_this_hour: admissions,
    baseline_per_hour: Math.round(perHour * 100) / 100,
    multiple: config.trafficMultiple,
  };
}

const sum = (counts: Readonly<Record<string, number>>, outcomes: readonly string[]) =>
  outcomes.reduce((total, o) => total + (counts[o] ?? 0), 0);

/** Every rule that one key's hour trips. */
export function evaluateRules(key: KeyHour, config: MonitoringConfig): Finding[] {
  const findings: Finding[] = [];
  if (key.newNetworks.length > 0) {
    const details = key.noRecentHistory
      ? { networks: key.newNetworks, no_recent_history: true }
      : { networks: key.newNetworks };
    findings.push({ rule: "new_network", details });
  }

  const spike = trafficSpike(key.hourCounts.valid ?? 0, key.baseline, config);
  if (spike) findings.push({ rule: "traffic_spike", details: spike });

  const restricted = sum(key.hourCounts, RESTRICTION_REFUSALS);
  if (restricted >= config.refusalBurst) {
    const byCode = Object.fromEntries(
      RESTRICTION_REFUSALS.filter((c) => key.hourCounts[c]).map((c) => [c, key.hourCounts[c]]),
    );
    findings.push({ rule: "refusal_burst", details: { refusals_this_hour: restricted, by_code: byCode } });
  }

  const dead = sum(key.hourCounts, DEAD_KEY_REFUSALS);
  if (dead >= config.revokedUse) {
    const byCode = Object.fromEntries(
      DEAD_KEY_REFUSALS.filter((c) => key.hourCounts[c]).map((c) => [c, key.hourCounts[c]]),
    );
    findings.push({ rule: "revoked_key_use", details: { attempts_this_hour: dead, by_code: byCode } });
  }
  return findings;
}

/**
 * The consumer-wide rule: `consumer_traffic_spike`, the traffic_spike rule on the consumer's own baseline
 * (its admissions across all its keys), with the same settings. It sees what no key's rule can: traffic
 * spread over many keys (new ones included, which have no baseline of their own), each of them unremarkable.
 */
export function evaluateConsumerRules(
  consumer: { admissions: number; baseline: Baseline | null },
  config: MonitoringConfig,
): Finding[] {
  const spike = trafficSpike(consumer.admissions, consumer.baseline, config);
  return spike ? [{ rule: "consumer_traffic_spike", details: spike }] : [];
}
