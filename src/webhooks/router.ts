/**
 * Public webhook routes under /webhooks: each checks its own credential (GitHub's signature, truffleHog's
 * header token) and is never forwarded to the origin. Any other method or path under /webhooks is
 * 404 (the app's reserved catch-all).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/context";
import { handleGithubAlert } from "./github-secret-scanning";
import { handleTrufflehogVerify } from "./trufflehog-verify";

export const webhookRoutes = new Hono<AppEnv>();

webhookRoutes.post("/github/secret-scanning", handleGithubAlert);
webhookRoutes.post("/trufflehog/verify", handleTrufflehogVerify);
