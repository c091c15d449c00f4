/** A new key's secret, shown once (Stripe's pattern): a warning, the secret, a copy button. Never stored or shown again. */
export function SecretShown(props: { apiKey: string; heading: string; keyHref: string }) {
  return (
    <section class="panel" aria-labelledby="secret-title">
      <h1 id="secret-title">{props.heading}</h1>
      <div class="notice warning" role="note">
        <strong>Copy this key now.</strong> It is shown this once and cannot be shown again: only its hash is kept.
        Store it in a secret manager, never in code or a URL.
      </div>
      <div class="secret">
        <code id="new-secret" data-secret>
          {props.apiKey}
        </code>
        <button type="button" class="secondary" data-copy="new-secret" hidden>
          Copy key
        </button>
      </div>
      <p>
        <a href={props.keyHref}>Go to the key's page</a>
      </p>
    </section>
  );
}
