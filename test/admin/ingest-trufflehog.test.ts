/** POST /admin/v1/leaks/trufflehog (src/operations/ingest-findings.ts): truffleHog's JSON lines; the live keys in them are revoked. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format";
import type { IngestSummary } from "../../src/leaks/ingest";
import { admin, gatewayStatus, mintKey } from "../helpers";
import { itRefusesWrongCredentials } from "./helpers";
import { leakSnapshot } from "./leak-helpers";

const line = (raw: string, file: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    SourceMetadata: {
      Data: {
        Git: {
          commit: "fbc14303ffbf8fb1c2c1914e8dda7d0121633aca",
          file,
          email: "a <a@b>",
          repository: "https://github.com/o/r",
          timestamp: "2026-11-20",
          line: 4,
        },
      },
    },
    SourceID: 1,
    SourceType: 16,
    SourceName: "trufflehog - git",
    DetectorType: 1000,
    DetectorName: "EdgeKeyAuthorizer_sk_live",
    DecoderName: "PLAIN",
    Verified: false,
    Raw: raw,
    RawV2: "",
    Redacted: "",
    ExtraData: null,
    StructuredData: null,
    ...extra,
  });
const ingest = (body: string) =>
  admin("/leaks/trufflehog", { body, headers: { "Content-Type": "application/x-ndjson" } });

describe("happy path", () => {
  it("revokes the live keys of its JSON lines, one result per line, idempotently", async () => {
    const k = await mintKey();
    const jsonl = [
      line(k.apiKey, "config.yml"),
      "",
      line("AKIAYVP4CIPPERUVIFXG", "keys", { DetectorName: "AWS" }),
      line(generateKey("", "secret", "live"), "x"),
    ].join("\n");
    const response = await ingest(jsonl);
    expect(response.status).toBe(200);
    const body = (await response.json()) as IngestSummary;
    expect(body.results.map((r) => r.status)).toEqual(["revoked", "not_a_key", "no_match"]);
    expect(await gatewayStatus(k.apiKey)).toBe(401);
    const row = await env.DB.prepare("SELECT location FROM leak_events WHERE key_id = ?")
      .bind(k.id)
      .first<{ location: string }>();
    expect(row!.location).toBe("https://github.com/o/r config.yml:4 @ fbc14303ffbf");
    const replay = (await (await ingest(jsonl)).json()) as IngestSummary;
    expect(replay.results.map((r) => r.duplicate)).toEqual([true, false, true]);
  });
});

describe("errors", () => {
  it("refuses the whole report, revoking nothing, when one line is not valid", async () => {
    const k = await mintKey();
    for (const bad of ["{not json", JSON.stringify({ Raw: 5 }), "[1]"]) {
      const response = await ingest([line(k.apiKey, "a"), bad].join("\n"));
      expect(response.status).toBe(400);
      const problem = (await response.json()) as { errors: { path: string }[] };
      expect(problem.errors[0]!.path).toMatch(/^line 2/);
    }
    expect((await admin("/leaks/trufflehog", { json: {} })).status).toBe(415);
    expect(await gatewayStatus(k.apiKey)).toBe(200);
  });
});

describe("security", () => {
  itRefusesWrongCredentials(
    async () => ({ method: "POST", path: "/leaks/trufflehog", json: JSON.parse(line((await mintKey()).apiKey, "a")) }),
    leakSnapshot,
  );

  it("stores and answers no key, even one in the file name; a redacted Raw revokes nothing", async () => {
    const k = await mintKey();
    const response = await ingest(
      [line(k.apiKey, `secrets/${k.apiKey}.env`), line(`${k.apiKey.slice(0, -4)}****`, "b")].join("\n"),
    );
    const text = await response.text();
    expect(text).not.toContain(k.apiKey);
    expect((JSON.parse(text) as IngestSummary).results.map((r) => r.status)).toEqual(["revoked", "not_a_key"]);
    const row = await env.DB.prepare("SELECT location, fingerprint FROM leak_events WHERE key_id = ?")
      .bind(k.id)
      .first<{ location: string; fingerprint: string }>();
    expect(JSON.stringify(row)).not.toContain(k.apiKey);
  });
});
