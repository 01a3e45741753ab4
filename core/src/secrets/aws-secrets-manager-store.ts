import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import type { SecretStore } from "./secret-store.js";

/** Ids are the UUIDs this store hands out; checking them keeps a caller from naming a secret outside the prefix. */
const SAFE_ID = /^[A-Za-z0-9-]{1,128}$/;

/**
 * The AWS secret store: one Secrets Manager secret per stored value, named `<prefix><id>`,
 * holding the value as a JSON string and encrypted with the account's `aws/secretsmanager`
 * key. DynamoDB keeps only the id. The functions' IAM policies are scoped to `<prefix>*`.
 *
 * Secrets Manager rather than SSM SecureString: SecureString's standard tier caps a value at
 * 4 KB, which a PEM RSA-4096 key plus a passphrase or certificate can exceed (advanced
 * parameters cost about as much per secret anyway), and DESIGN.md rule 3 names it.
 * The price is $0.40 per secret per month, which docs/deploying-aws.md states.
 */
export class SecretsManagerSecretStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
  ) {}

  async put(value: Record<string, unknown>): Promise<string> {
    const id = randomUUID();
    await this.client.send(
      new CreateSecretCommand({
        Name: this.nameOf(id),
        SecretString: JSON.stringify(value),
        Description: "EDP secret (SSH key or credentials); referenced from DynamoDB by id",
        // The id doubles as the idempotency token, so an SDK retry cannot create a second version.
        ClientRequestToken: id,
      }),
    );
    return id;
  }

  async get(id: string): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.client.send(new GetSecretValueCommand({ SecretId: this.nameOf(id) }));
      return result.SecretString === undefined ? undefined : (JSON.parse(result.SecretString) as Record<string, unknown>);
    } catch (error) {
      if (isNamed(error, "ResourceNotFoundException")) return undefined;
      throw error;
    }
  }

  async replace(id: string, value: Record<string, unknown>): Promise<void> {
    await this.client.send(new PutSecretValueCommand({ SecretId: this.nameOf(id), SecretString: JSON.stringify(value) }));
  }

  /** Deletes at once (no recovery window): the item that referred to it is gone too. A missing secret is not an error. */
  async delete(id: string): Promise<void> {
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: this.nameOf(id), ForceDeleteWithoutRecovery: true }));
    } catch (error) {
      if (!isNamed(error, "ResourceNotFoundException")) throw error;
    }
  }

  private nameOf(id: string): string {
    if (!SAFE_ID.test(id)) throw new Error("Invalid secret id");
    return `${this.prefix}${id}`;
  }
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
