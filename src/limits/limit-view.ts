/**
 * A limit as the admin API shows it (the key check and the limits views): named as the RateLimit headers
 * name it (./headers.ts), whose it is, and what is left until when.
 */
import * as z from "zod";
import { isoTime } from "../util/time";
import { rateLimitName } from "./headers";
import type { AdmissionLimit } from "./leases";

export const limitViewSchema = z.object({
  /** "hour" for the key's own limit, "consumer.hour" for its consumer's shared one. */
  name: z.string(),
  subject: z.enum(["key", "consumer"]),
  limit: z.int(),
  window_seconds: z.int(),
  remaining: z.int(),
  /** When the current window ends. */
  reset_at: z.iso.datetime(),
});
export type LimitView = z.output<typeof limitViewSchema>;

export function toLimitView(limit: AdmissionLimit): LimitView {
  return {
    name: rateLimitName(limit),
    subject: limit.subject ?? "key",
    limit: limit.limit,
    window_seconds: limit.window_seconds,
    remaining: limit.remaining,
    reset_at: isoTime(limit.reset_at),
  };
}
