/** What the leak ingest tests read back: the leak events, and a snapshot of what an ingest may change. */
import { env } from "cloudflare:workers";
import { d1Snapshot } from "../faults/wrappers";

export const eventCount = async () =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM leak_events").first<{ n: number }>())!.n;

/** The keys, the audit rows and the leak events: everything an ingest can change. */
export const leakSnapshot = async () => ({ d1: await d1Snapshot(), events: await eventCount() });
