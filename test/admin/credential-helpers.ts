/** Minting scoped admin credentials in tests, and calling the admin API with one. */
import { admin, call } from "../helpers";

export interface MintedCredential {
  secret: string;
  id: string;
}

/** Mints a credential with the admin token (or `as`, another credential's secret); fails the test if refused. */
export async function mintCredential(
  body: { operations: string[]; consumers?: string[]; expires_in_days?: number; name?: string },
  as?: string,
): Promise<MintedCredential> {
  const res = await admin("/credentials", {
    json: { name: "test credential", expires_in_days: 30, ...body },
    headers: as === undefined ? {} : { Authorization: `Bearer ${as}` },
  });
  if (res.status !== 201) throw new Error(`credential mint failed: ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { credential: string; details: { id: string } };
  return { secret: json.credential, id: json.details.id };
}

/** An admin API call with this credential (a JSON body when `json` is given). */
export function withCredential(
  secret: string,
  path: string,
  init: { method?: string; json?: unknown } = {},
): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${secret}` };
  if (init.json !== undefined) headers["Content-Type"] = "application/json";
  return call(`/admin/v1${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    body: init.json === undefined ? undefined : JSON.stringify(init.json),
  });
}
