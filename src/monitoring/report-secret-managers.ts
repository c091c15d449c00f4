/**
 * The security report's "Secret managers" control, from the audit log of the last SECRET_MANAGER_WINDOW_DAYS:
 * keys rotated by the AWS Secrets Manager rotation function, keys the CLI wrote to HashiCorp Vault, and the
 * scoped credentials that acted. A key's store is the label its create or rotate call gave
 * (`secret_store`, the caller's word: the writes to the secret managers happen outside the Worker).
 */
import { DAY_MS } from "../util/time";
import type { Control } from "./report-schema";

/** The window of the control's figures: the rotation window of the rest of the report. */
const SECRET_MANAGER_WINDOW_DAYS = 90;
/** The audit actor of a scoped admin credential: `credential:<id>` (a name, never the credential). */
const CREDENTIAL_ACTOR_PREFIX = "credential:";

export interface SecretManagerFigures {
  /** Rotations labelled aws-secrets-manager, by the actor that made them (the function's credential). */
  awsRotations: { actor: string; rotations: number }[];
  /** Distinct keys minted into Vault: created there, or a rotation's successor. */
  vaultKeys: number;
  /** Distinct scoped credentials with an audit row in the window. */
  credentialsActing: number;
}

/**
 * The figures, three reads of the window's audit rows. A rotation writes a row under each key: the
 * predecessor's (with `rotated_to`) counts the rotation, the successor's (with `rotated_from`) the new key.
 */
export async function readSecretManagerFigures(db: D1Database, now: number): Promise<SecretManagerFigures> {
  const since = now - SECRET_MANAGER_WINDOW_DAYS * DAY_MS;
  const [aws, vault, credentials] = await Promise.all([
    db
      .prepare(
        `SELECT actor, COUNT(*) AS rotations FROM audit_log
         WHERE at >= ?1 AND subject_type = 'key' AND action = 'rotate'
           AND json_extract(changes, '$.secret_store') = 'aws-secrets-manager'
           AND json_extract(changes, '$.rotated_to') IS NOT NULL
         GROUP BY actor ORDER BY rotations DESC, actor`,
      )
      .bind(since)
      .all<{ actor: string; rotations: number }>(),
    db
      .prepare(
        `SELECT COUNT(DISTINCT subject_id) AS n FROM audit_log
         WHERE at >= ?1 AND subject_type = 'key' AND json_extract(changes, '$.secret_store') = 'vault'
           AND (action = 'create' OR (action = 'rotate' AND json_extract(changes, '$.rotated_from') IS NOT NULL))`,
      )
      .bind(since)
      .first<{ n: number }>(),
    db
      .prepare("SELECT COUNT(DISTINCT actor) AS n FROM audit_log WHERE at >= ?1 AND substr(actor, 1, ?2) = ?3")
      .bind(since, CREDENTIAL_ACTOR_PREFIX.length, CREDENTIAL_ACTOR_PREFIX)
      .first<{ n: number }>(),
  ]);
  return { awsRotations: aws.results, vaultKeys: vault?.n ?? 0, credentialsActing: credentials?.n ?? 0 };
}

/** The control row. Pure. "Active" once either integration minted a key in the window. */
export function secretManagerControl(figures: SecretManagerFigures): Control {
  const rotations = figures.awsRotations.reduce((sum, a) => sum + a.rotations, 0);
  const by = figures.awsRotations.length === 0 ? "" : ` (by ${figures.awsRotations.map((a) => a.actor).join(", ")})`;
  return {
    control: "Secret managers",
    implementation:
      "AWS Secrets Manager rotation function (the old key's grace starts when the new version is current); " +
      "keys CLI writes new keys to HashiCorp Vault KV v2 with check-and-set and revokes a key Vault did not take",
    status: rotations > 0 || figures.vaultKeys > 0 ? "Active" : "Available",
    evidence:
      `${rotations} keys rotated by the AWS Secrets Manager function${by}, ${figures.vaultKeys} keys written to ` +
      `Vault, ${figures.credentialsActing} scoped credentials acting, in the last ${SECRET_MANAGER_WINDOW_DAYS} days`,
  };
}
