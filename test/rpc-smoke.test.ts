import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { mintKey } from "./helpers";
it("rpc", async () => {
  const { apiKey } = await mintKey();
  const r = await env.CALLER.fetch("https://caller.test/", { method: "POST", body: JSON.stringify({ key: apiKey, method: "GET", path: "/x" }) });
  console.log(r.status, await r.text());
});
