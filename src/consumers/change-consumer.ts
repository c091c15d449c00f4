/**
 * Making a change to a consumer take effect everywhere (its shared limits live in the consumer's Durable
 * Object) before the admin call returns.
 */

// placeholder: the lead's merge replaces this with the announce → write → push → wait protocol
export async function changeConsumer<T>(
  _env: Cloudflare.Env,
  _consumerId: string,
  write: () => Promise<T>,
): Promise<T> {
  return write();
}
