/**
 * The security report's "Secret managers" control, from the audit log of the last SECRET_MANAGER_WINDOW_DAYS:
 * keys rotated by the AWS Secrets Manager rotation function and keys the CLI wrote to HashiCorp Vault; and,
 * from the credentials table, the scoped credentials in use (such as the function's). A key's store is the label its create or rotate call gave
 * (`secret_store`, the caller's word: the writes to the secret managers happen outside the Worker).
 */
import { countCredentialsInUse } from "../credentials/store";
import { DAY_MS } from "../util/time";
import type { Control } from "./report-schema";

/** The window of the control's figures: the rotation window of the rest of the report. */
const SECRET_MANAGER_WINDOW_DAYS = 90;

export interface SecretManagerFigures {
  /** Rotations labelled aws-secrets-manager, by the actor that made them (the function's credential). */
  awsRotations: { actor: string; rotations: number }[];
  /** Distinct keys minted into Vault: created there, or a rotation's successor. */
  vaultKeys: number;
  /** Scoped credentials live now and used in the window. */
  credentialsInUse: number;
}

/**
 * The figures: two reads of the window's audit rows and one of the credentials. A rotation writes a row under each key: the
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
    countCredentialsInUse(db, now, since),
  ]);
  return { awsRotations: aws.results, vaultKeys: vault?.n ?? 0, credentialsInUse: credentials };
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
      `Vault, ${figures.credentialsInUse} scoped credentials in use, in the last ${SECRET_MANAGER_WINDOW_DAYS} days`,
  };
}
