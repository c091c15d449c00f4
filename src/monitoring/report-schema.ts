/**
 * The shape of the API Key Security Implementation Report (GET /admin/v1/report?format=json), as a schema:
 * `buildReport` returns it, the admin API answers with it and the OpenAPI document is generated from it.
 */
import * as z from "zod";
import { alertViewSchema } from "./alerts";

const count = z.int().min(0);

const CONTROL_STATUSES = ["Active", "Partial", "Available", "Not configured"] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

/** One security control, its status and the evidence for it. */
const controlSchema = z.object({
  control: z.string(),
  implementation: z.string(),
  status: z.enum(CONTROL_STATUSES),
  evidence: z.string(),
});
export type Control = z.output<typeof controlSchema>;

const validations = z.object({ total: count, valid: count });

/** The consumers: how many, their live keys, shared limits, keys due for rotation, and the busiest. */
const consumerFiguresSchema = z.object({
  /** Consumers not deleted. */
  count,
  /** Live keys per consumer not deleted (those without any included, as 0). */
  live_keys_per_consumer: z.object({ median: z.number().nullable(), max: count, without_live_keys: count }),
  /** Consumers not deleted whose `rate_limits` are empty: their keys' own limits are all there is. */
  without_shared_limits: count,
  /** Consumers holding live keys created `older_than_days` ago or more and not rotated since. */
  keys_due_rotation: z.object({
    older_than_days: count,
    count,
    consumers: z.array(z.object({ consumer_id: z.string(), keys: count, oldest_created_at: z.iso.datetime() })),
  }),
  /** Decisions in the last 24 clock hours, busiest consumers first. */
  top_by_traffic_24h: z.array(validations.extend({ consumer_id: z.string() })),
});
export type ConsumerFigures = z.output<typeof consumerFiguresSchema>;

export const securityReportSchema = z.object({
  title: z.string(),
  platform: z.string(),
  generated_at: z.iso.datetime(),
  active_keys: count,
  keys_by_status: z.object({ active: count, disabled: count, revoked: count, expired: count }),
  validations: z.object({
    last_24h: validations,
    per_day: z.array(validations.extend({ day: z.string() })),
  }),
  consumers: consumerFiguresSchema,
  controls: z.array(controlSchema),
  leaks: z.object({
    window_days: count,
    keys_detected_in_public_sources: count,
    public_reports: count,
    public_reports_without_matching_key: count,
    revocations_after_report: count,
    mean_report_to_revocation_ms: z.number().nullable(),
    median_report_to_revocation_ms: z.number().nullable(),
    keys_found_by_scanner_before_commit: count,
    scanner_reports: count,
  }),
  open_alerts: z.object({ count, alerts: z.array(alertViewSchema) }),
  expiring_keys: z.object({
    within_days: count,
    count,
    keys: z.array(z.object({ id: z.string(), owner_id: z.string(), name: z.string(), expires_at: z.iso.datetime() })),
  }),
});
export type SecurityReport = z.output<typeof securityReportSchema>;
