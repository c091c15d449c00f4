/** The console's static files, under their hashed names (scripts/console-assets.mjs): cached for good. */
import { ASSET_FILES } from "./files.generated";

export function serveAsset(name: string): Response {
  const file = Object.hasOwn(ASSET_FILES, name) ? ASSET_FILES[name] : undefined;
  if (!file)
    return new Response("Not found", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" } });
  return new Response(file.body, {
    headers: { "Content-Type": file.type, "Cache-Control": "public, max-age=31536000, immutable" },
  });
}
