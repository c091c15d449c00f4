/**
 * The shape of the API Key Security Implementation Report (GET /admin/v1/report?format=json), as a schema:
 * `buildReport` returns it, the admin API answers with it and the OpenAPI document is generated from it.
 */
import * as z from "zod";
import { alertViewSchema } from "./alerts";

const count = z.int().min(0);

export const CONTROL_STATUSES = ["Active", "Partial", "Available", "Not configured"] as const;
export type ControlStatus = (typeof CONTROL_STATUSES)[number];

/** One security control, its status and the evidence for it. */
export const controlSchema = z.object({
  control: z.string(),
  implementation: z.string(),
  status: z.enum(CONTROL_STATUSES),
  evidence: z.string(),
});
export type Control = z.output<typeof controlSchema>;

const validations = z.object({ total: count, valid: count });

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
