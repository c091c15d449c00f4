/**
 * What a console or portal page says about an error thrown while serving it: a refusal as it was thrown, an
 * operation's problem by its title, anything else as a 503 with the request id, logged (never the path: a
 * portal link's path holds its token) so the id leads to the log line.
 */
import { PROBLEMS, ProblemError } from "../http/problem";
import { log } from "../util/log";
import { ConsoleRefusal } from "./context";

export interface Refusal {
  status: number;
  title: string;
  detail: string;
}

export function refusalOf(
  error: Error,
  request: { requestId: string | undefined; method: string },
  area: "console" | "portal",
): Refusal {
  if (error instanceof ConsoleRefusal) return error;
  if (error instanceof ProblemError) {
    const { status, title } = PROBLEMS[error.code];
    const detail = typeof error.options.extra?.detail === "string" ? error.options.extra.detail : `(${error.code})`;
    return { status, title, detail };
  }
  const requestId = request.requestId ?? crypto.randomUUID();
  const degraded = /^D1_/.test(error.message) ? "d1_unavailable" : undefined;
  log("error", `${area}.unhandled_error`, {
    request_id: requestId,
    method: request.method,
    error: error.name,
    degraded,
  });
  return { status: 503, title: "Something went wrong", detail: `Try again in a moment. Request id: ${requestId}.` };
}
