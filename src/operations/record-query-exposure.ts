/**
 * Record a key the gateway saw in a URL query string (src/leaks/query-exposure.ts finds them): an exposure
 * event, the owner told, and a revocation only when REVOKE_ON_QUERY_EXPOSURE is "true". Runs after the
 * refusal was answered, so it never throws.
 */
import type { Config } from "../config";
import { queryExposureReports } from "../leaks/query-exposure";
import { log } from "../util/log";
import type { OperationContext } from "./context";
import { ingestLeakReports } from "./ingest-leak-reports";

/** @example ctx.waitUntil(recordQueryExposure(opContext, config, { url, method, ip }, now)); */
export async function recordQueryExposure(
  ctx: OperationContext<{ kind: "gateway" }>,
  config: Config,
  request: { url: URL; method: string; ip: string | null },
  now: number,
): Promise<void> {
  try {
    const reports = await queryExposureReports(ctx.env, config, request, now);
    if (reports.length === 0) return;
    const revoke = ctx.env.REVOKE_ON_QUERY_EXPOSURE === "true";
    await ingestLeakReports(ctx, {
      source: "gateway_query",
      revoke,
      notifyType: "key.exposed",
      reportedAt: now,
      reports,
    });
  } catch (error) {
    log("error", "leaks.query_exposure_unrecorded", { request_id: ctx.requestId, error: (error as Error).name });
  }
}
