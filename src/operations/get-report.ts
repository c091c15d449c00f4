/** Read the API Key Security Implementation Report, computed from live data (src/monitoring/report.ts). */
import type { MonitoringConfig } from "../monitoring/config";
import { buildReport } from "../monitoring/report";
import type { SecurityReport } from "../monitoring/report-schema";
import type { AdminActor } from "./actor";
import type { OperationContext } from "./context";
import { clock } from "../util/clock";

export async function getReport(ctx: OperationContext<AdminActor>, config: MonitoringConfig): Promise<SecurityReport> {
  return buildReport(ctx.env, config, clock.now());
}
