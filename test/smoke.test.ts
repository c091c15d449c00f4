import { describe, expect, it } from "vitest";
import { call, gateway, mintKey, originSaw } from "./helpers";

describe("smoke", () => {
  it("mints and forwards", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    const { apiKey } = await mintKey();
    const { response, trace } = gateway("/api/v1/things", apiKey);
    const r = await response;
    console.log(r.status, await r.text());
    expect(await originSaw(trace)).toBe(true);
  });
});
