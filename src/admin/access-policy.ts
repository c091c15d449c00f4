/**
 * ACCESS_POLICY: what each Cloudflare Access identity may do in the admin API. A JSON array of entries, each
 * naming a person (`email`: an address, or `*@example.com` for a whole domain) or a service token
 * (`service`: its `common_name`, the token's client id), with `operations`: "admin" (everything) or a list
 * of permissions, and optionally `consumers` to limit it to some consumers:
 *
 *   [{ "email": "alice@example.com", "operations": "admin" },
 *    { "email": "*@example.com", "operations": ["keys:read", "usage:read"] },
 *    { "service": "8b1a….access", "operations": ["keys:rotate", "keys:check"], "consumers": ["acme"] }]
 *
 * An exact entry wins over a domain pattern; among patterns, the first that matches. An identity no entry
 * names has no permissions (403), so a valid Access JWT alone never opens the admin API.
 */
import * as z from "zod";
import { CONSUMER_ID_PATTERN } from "../consumers/consumer-record";
import { FULL_GRANT, type Grant } from "../operations/actor";
import { adminPermissionSchema } from "../operations/permissions";
import type { AccessIdentity } from "./access";

const grantFields = {
  operations: z.union([z.literal("admin"), z.array(adminPermissionSchema).min(1)]),
  consumers: z.array(z.string().regex(CONSUMER_ID_PATTERN)).min(1).max(100).optional(),
};
const entrySchema = z.union([
  z.strictObject({ email: z.string().regex(/^(?:\*|[^\s@*]{1,64})@[^\s@*]{1,255}$/), ...grantFields }),
  z.strictObject({ service: z.string().regex(/^[\x21-\x7e]{1,255}$/), ...grantFields }),
]);
const policySchema = z.array(entrySchema).max(1000);
type Entry = z.output<typeof entrySchema>;

export interface AccessPolicy {
  entries: Entry[];
}

let parsed: { raw: string; policy: AccessPolicy | null } | null = null;

/** The policy of this raw setting ("" or unset: no entries), or null when it is malformed. */
export function parseAccessPolicy(raw: string): AccessPolicy | null {
  if (parsed?.raw === raw) return parsed.policy;
  let policy: AccessPolicy | null = { entries: [] };
  if (raw.trim() !== "") {
    try {
      const result = policySchema.safeParse(JSON.parse(raw));
      policy = result.success ? { entries: result.data } : null;
    } catch {
      policy = null;
    }
  }
  parsed = { raw, policy };
  return policy;
}

const toGrant = (entry: Entry): Grant => ({
  permissions: entry.operations === "admin" ? FULL_GRANT.permissions : [...new Set(entry.operations)],
  consumers: entry.consumers ?? null,
});

/** What the identity may do, or null when no entry names it. */
export function grantFor(policy: AccessPolicy, identity: AccessIdentity): Grant | null {
  if ("commonName" in identity) {
    const entry = policy.entries.find((e) => "service" in e && e.service === identity.commonName);
    return entry ? toGrant(entry) : null;
  }
  const email = identity.email.toLowerCase();
  const domain = email.slice(email.lastIndexOf("@"));
  const exact = policy.entries.find((e) => "email" in e && e.email.toLowerCase() === email);
  const pattern = policy.entries.find(
    (e) => "email" in e && e.email.startsWith("*@") && e.email.slice(1).toLowerCase() === domain,
  );
  const entry = exact ?? pattern;
  return entry ? toGrant(entry) : null;
}
