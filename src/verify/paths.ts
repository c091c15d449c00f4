/**
 * Canonical paths. The authorizer decides on exactly the path the origin will act on, so anything two
 * servers could read differently is refused instead of guessed at: empty segments ("//"), encoded or raw
 * slashes and backslashes ("%2f", "%5c", "\"), NUL and other control characters, dot segments in any
 * spelling (including "..;", which Java servers read as ".." with a path parameter), double
 * percent-encoding (an origin that decodes twice would see what we never checked), and broken escapes. workerd already resolves plain "." and ".." before the Worker runs;
 * this is the second line for whatever reaches us another way (RPC callers pass paths as strings).
 */

export interface CanonicalPath {
  /** Percent-decoded segments: "/a/b%20c/" → ["a", "b c", ""]. "/" → [""]. */
  segments: string[];
}

/** After decoding: slashes, backslashes, C0 and C1 control characters, DEL, and a second layer of escapes. */
const FORBIDDEN_DECODED = /[\u0000-\u001f\u007f-\u009f/\\]|%[0-9A-Fa-f]{2}/;

export function canonicalPath(path: string): CanonicalPath | null {
  if (!path.startsWith("/") || /[\\?#]/.test(path) || path.length > 4096) return null;
  const raw = path.slice(1).split("/");
  const segments: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const segment = raw[i]!;
    if (segment === "" && i !== raw.length - 1) return null;
    let decoded = segment;
    if (segment.includes("%")) {
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return null;
      }
    }
    const beforeParameters = decoded.split(";", 1)[0];
    if (FORBIDDEN_DECODED.test(decoded) || beforeParameters === "." || beforeParameters === "..") return null;
    segments.push(decoded);
  }
  return { segments };
}
