/** The admin API under /admin/v1. Every route is behind the admin token. */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { problem } from "../http/problem";
import { adminAuth, type AdminVariables } from "./auth";
import { createKey } from "./create-key";
import { revokeKey } from "./revoke-key";

export const adminRoutes = new Hono<AppEnv & { Variables: AdminVariables }>();

adminRoutes.use(adminAuth());
adminRoutes.post("/keys", createKey);
adminRoutes.post("/keys/:id/revoke", revokeKey);
adminRoutes.all("*", (c) => problem("not_found", { requestId: c.get("requestId") }));
