/**
 * Public webhook routes under /webhooks: each checks its own credential (GitHub's signature, truffleHog's
 * header token) and is never forwarded to the origin. Anything else under /webhooks is 404.
 */
import { Hono } from "hono";
import type { AppEnv } from "../app";
import { problem } from "../http/problem";
import { handleGithubAlert } from "./github";
import { handleTrufflehogVerify } from "./trufflehog";

export const webhookRoutes = new Hono<AppEnv>();

webhookRoutes.post("/github/secret-scanning", handleGithubAlert);
webhookRoutes.all("/github/secret-scanning", (c) => problem("method_not_allowed", { requestId: c.get("requestId"), allow: "POST" }));
webhookRoutes.post("/trufflehog/verify", handleTrufflehogVerify);
webhookRoutes.all("/trufflehog/verify", (c) => problem("method_not_allowed", { requestId: c.get("requestId"), allow: "POST" }));
