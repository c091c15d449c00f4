/** GET /admin/v1/report (src/operations/get-report.ts): the security report (test/monitoring/report.test.ts checks its figures). */
import { describe, expect, it } from "vitest";
import type { SecurityReport } from "../../src/monitoring/report-schema";
import { admin, ADMIN_TOKEN, callWith } from "../helpers";
import { itRefusesWrongCredentials } from "./helpers";

describe("happy path", () => {
  it("answers Markdown by default and the same report as JSON with format=json", async () => {
    const md = await admin("/report", { method: "GET" });
    expect(md.status).toBe(200);
    expect(md.headers.get("Content-Type")).toBe("text/markdown; charset=utf-8");
    expect(md.headers.get("Cache-Control")).toBe("no-store");
    expect((await md.text()).startsWith("# API Key Security Implementation Report")).toBe(true);
    const json = await admin("/report?format=json", { method: "GET" });
    expect(json.headers.get("Content-Type")).toMatch(/^application\/json/);
    const report = (await json.json()) as SecurityReport;
    expect(report.title).toBe("API Key Security Implementation Report");
    expect(report.controls.map((c) => c.control)).toContain("Key entropy");
  });
});

describe("errors", () => {
  it("refuses a bad format, and answers 503 when the monitoring settings are malformed", async () => {
    expect((await admin("/report?format=pdf", { method: "GET" })).status).toBe(400);
    expect(
      (
        await callWith({ ALERT_DEDUPE_MINUTES: "soon" } as Partial<Cloudflare.Env>, "/admin/v1/report", {
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
        })
      ).status,
    ).toBe(503);
  });
});

describe("security", () => {
  it("refuses callers without the admin token", async () => {
    expect((await callWith({}, "/admin/v1/report")).status).toBe(401);
  });

  itRefusesWrongCredentials(async () => ({ method: "GET", path: "/report?format=json" }));
});
