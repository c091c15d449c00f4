/**
 * What an admin principal may do: the closed list of permissions ("operations" in a credential's request
 * body). Every admin route names the one it needs in the operation table (src/admin/operations.ts); the admin token
 * and an Access identity mapped to `admin` hold them all.
 */
import * as z from "zod";

export const ADMIN_PERMISSIONS = [
  "keys:read",
  "keys:create",
  "keys:rotate",
  "keys:revoke",
  "keys:check",
  "consumers:read",
  "consumers:write",
  "leaks:ingest",
  "usage:read",
  "report:read",
  "audit:read",
  "credentials:write",
] as const;

export type AdminPermission = (typeof ADMIN_PERMISSIONS)[number];

export const adminPermissionSchema = z.enum(ADMIN_PERMISSIONS);
