/** Read one key: the key object (404 for an id no key has). */
import { toKeyView, type KeyView } from "../keys/key-record";
import type { KeyActor } from "./actor";
import type { OperationContext } from "./context";
import { requireKey } from "./key-change";
import { clock } from "../util/clock";

export async function getKey(ctx: OperationContext<KeyActor>, id: string): Promise<KeyView> {
  const { record } = await requireKey(ctx, id);
  return toKeyView(record, clock.now());
}
