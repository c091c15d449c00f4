/**
 * The admin API under /admin/v1, every route behind the admin credential. The table in ./operations.ts
 * lists each route once, with its handler and schemas; the OpenAPI document is generated from it.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { problem } from "../http/problem";
import { adminAuth, type AdminVariables } from "./auth";
import { OPERATIONS, openApiDocument } from "./operations";

export const adminRoutes = new Hono<AppEnv & { Variables: AdminVariables }>();

adminRoutes.use(adminAuth());
for (const op of OPERATIONS) adminRoutes.on(op.method, op.path.replaceAll(/\{(\w+)\}/g, ":$1"), op.handler);
adminRoutes.get("/openapi.json", (c) => c.json(openApiDocument(), 200, { "Cache-Control": "no-store" }));
adminRoutes.all("*", (c) => problem("not_found", { requestId: c.get("requestId") }));
