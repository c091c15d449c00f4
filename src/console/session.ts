/**
 * Server-side sessions for the console and the portal: the cookie, its attributes, and the middleware that
 * finds a request's session. One module for both kinds, so the portal gets the same rules:
 * - a new random id at every sign-in (a cookie planted before sign-in is never promoted: no fixation);
 * - `HttpOnly; SameSite=Strict; Path=<prefix>`, and `Secure` except on loopback http (local development);
 * - an idle end (SESSION_IDLE_MS) and an absolute one (SESSION_ABSOLUTE_MS), on the clock (src/util/clock.ts);
 * - signing out deletes the row, so the old cookie is refused even if it is replayed.
 */
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Actor } from "../operations/actor";
import { SESSION_COOKIE_NAMES } from "../reserved-paths";
import { clock } from "../util/clock";
import { HOUR_MS, MINUTE_MS } from "../util/time";
import {
  deleteLapsedSessions,
  deleteSession,
  findLiveSession,
  insertSession,
  type Session,
  type SessionKind,
  touchSession,
} from "./session-store";

/** A session unused this long ends (OWASP ASVS 3.3: idle timeout for a privileged console). */
const SESSION_IDLE_MS = 30 * MINUTE_MS;
/** A session ends this long after sign-in, however active: a stolen cookie works for a working day at most. */
const SESSION_ABSOLUTE_MS = 8 * HOUR_MS;
/**
 * `last_seen_at` is written at most this often: a page view costs one D1 read, not a write each time. The
 * idle end is thereby up to this much earlier than SESSION_IDLE_MS after the last request, never later.
 */
const TOUCH_EVERY_MS = MINUTE_MS;

/** What the session middleware puts on the context. */
export type SessionVariables = { requestId: string; base: string; session?: Session };

/** The console's or the portal's context: any Hono env whose variables include the session's. */
export type SessionEnv = { Bindings: Cloudflare.Env; Variables: SessionVariables };
type SessionContext<E extends SessionEnv = SessionEnv> = Context<E>;

/** Loopback http (local development) is the one place a session cookie goes without `Secure`. */
function isLoopbackHttp(url: URL): boolean {
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function cookieOptions<E extends SessionEnv>(c: SessionContext<E>, maxAgeMs: number) {
  return {
    path: c.var.base === "" ? "/" : c.var.base,
    httpOnly: true,
    sameSite: "Strict" as const,
    secure: !isLoopbackHttp(new URL(c.req.url)),
    maxAge: Math.max(0, Math.floor(maxAgeMs / 1000)),
  };
}

/**
 * Starts a session of this kind for this actor: removes the request's old session if it had one, stores a
 * new one under a fresh id and sets its cookie.
 * @example await startSession(c, "portal", { kind: "portal", consumerId }, { expiresAt: link.expiresAt });
 */
export async function startSession<E extends SessionEnv>(
  c: SessionContext<E>,
  kind: SessionKind,
  actor: Actor,
  options: { credentialFingerprint?: string | null; expiresAt?: number; idleTimeoutMs?: number } = {},
): Promise<Session> {
  const now = clock.now();
  await endSession(c, kind, { keepCookie: true }); // the new cookie replaces it
  await deleteLapsedSessions(c.env.DB, now);
  const expiresAt = Math.min(options.expiresAt ?? now + SESSION_ABSOLUTE_MS, now + SESSION_ABSOLUTE_MS);
  const { id, session } = await insertSession(c.env.DB, {
    kind,
    actor,
    credentialFingerprint: options.credentialFingerprint ?? null,
    now,
    idleTimeoutMs: options.idleTimeoutMs ?? SESSION_IDLE_MS,
    expiresAt,
  });
  setCookie(c, SESSION_COOKIE_NAMES[kind], id, cookieOptions(c, expiresAt - now));
  c.set("session", session);
  return session;
}

/** Deletes the request's session of this kind on the server, and its cookie. */
export async function endSession<E extends SessionEnv>(
  c: SessionContext<E>,
  kind: SessionKind,
  options: { keepCookie?: boolean } = {},
): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE_NAMES[kind]);
  const found = id === undefined ? null : await findLiveSession(c.env.DB, id, kind, clock.now());
  if (found) await deleteSession(c.env.DB, found.idHash);
  if (id !== undefined && !options.keepCookie)
    deleteCookie(c, SESSION_COOKIE_NAMES[kind], { path: cookieOptions(c, 0).path });
}

/**
 * Finds the request's live session of this kind (its own cookie only: a portal cookie never opens the
 * console) and puts it on the context; `validate` may refuse one whose credential has changed since.
 */
export function loadSession<E extends SessionEnv>(
  kind: SessionKind,
  validate: (c: SessionContext<E>, session: Session) => Promise<boolean> = async () => true,
): MiddlewareHandler<E> {
  return async function sessionMiddleware(c, next) {
    const id = getCookie(c, SESSION_COOKIE_NAMES[kind]);
    if (id !== undefined && /^[A-Za-z0-9_-]{43}$/.test(id)) {
      const now = clock.now();
      const session = await findLiveSession(c.env.DB, id, kind, now);
      if (session && (await validate(c, session))) {
        if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await touchSession(c.env.DB, session.idHash, now);
        c.set("session", session);
      } else if (session) {
        await deleteSession(c.env.DB, session.idHash);
      }
    }
    await next();
  };
}
