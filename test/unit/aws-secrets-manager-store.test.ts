import { InvalidRequestException, ResourceNotFoundException, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { AWS_PORT_ACTIONS, iamActionOf, type PortMethod } from "@edp/core/runtime/aws-actions";
import { SecretsManagerSecretStore } from "@edp/core/secrets/aws-secrets-manager-store";
import { describe, expect, it } from "vitest";
import { intercept, offlineClientConfig, type Responder, type SentRequest } from "../support/aws-intercept.js";

const PREFIX = "edp/edp-test/";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function setUp(respond?: Responder) {
  const client = new SecretsManagerClient(offlineClientConfig);
  const requests = intercept(client, respond);
  return { store: new SecretsManagerSecretStore(client, PREFIX), requests };
}

function expectGranted(method: PortMethod, requests: SentRequest[]) {
  for (const request of requests)
    expect(AWS_PORT_ACTIONS[method] as readonly string[]).toContain(iamActionOf("secretsmanager", request.command));
}

const notFound = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });

describe("SecretsManagerSecretStore", () => {
  it("creates one secret per value under the prefix, the new id doubling as idempotency token, and returns the id", async () => {
    const { store, requests } = setUp();
    const value = { private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", user: "hadoop" };
    const id = await store.put(value);
    expect(id).toMatch(UUID);
    expect(requests).toEqual([
      {
        command: "CreateSecretCommand",
        input: {
          Name: `${PREFIX}${id}`,
          SecretString: JSON.stringify(value),
          Description: "EDP secret (SSH key or credentials); referenced from DynamoDB by id",
          ClientRequestToken: id,
        },
      },
    ]);
    expectGranted("secrets.put", requests);
    expect(await store.put(value)).not.toBe(id);
  });

  it("reads a secret back by id", async () => {
    const { store, requests } = setUp(() => ({ SecretString: JSON.stringify({ password: "s3cr3t" }) }));
    expect(await store.get("1b4e28ba-2fa1-41d2-883f-0016d3cca427")).toEqual({ password: "s3cr3t" });
    expect(requests).toEqual([{ command: "GetSecretValueCommand", input: { SecretId: `${PREFIX}1b4e28ba-2fa1-41d2-883f-0016d3cca427` } }]);
    expectGranted("secrets.get", requests);
  });

  it("reads a missing secret as undefined and passes other errors on", async () => {
    expect(
      await setUp(() => {
        throw notFound();
      }).store.get("1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
    ).toBeUndefined();
    const failing = setUp(() => {
      throw new InvalidRequestException({ message: "marked for deletion", $metadata: {} });
    });
    await expect(failing.store.get("1b4e28ba-2fa1-41d2-883f-0016d3cca427")).rejects.toThrow("marked for deletion");
  });

  it("replaces a value with a new version of the same secret", async () => {
    const { store, requests } = setUp();
    await store.replace("1b4e28ba-2fa1-41d2-883f-0016d3cca427", { password: "new" });
    expect(requests).toEqual([
      {
        command: "PutSecretValueCommand",
        input: { SecretId: `${PREFIX}1b4e28ba-2fa1-41d2-883f-0016d3cca427`, SecretString: '{"password":"new"}' },
      },
    ]);
    expectGranted("secrets.replace", requests);
  });

  it("deletes at once, without a recovery window, and ignores a secret that is gone", async () => {
    const { store, requests } = setUp();
    await store.delete("1b4e28ba-2fa1-41d2-883f-0016d3cca427");
    expect(requests).toEqual([
      {
        command: "DeleteSecretCommand",
        input: { SecretId: `${PREFIX}1b4e28ba-2fa1-41d2-883f-0016d3cca427`, ForceDeleteWithoutRecovery: true },
      },
    ]);
    expectGranted("secrets.delete", requests);
    const gone = setUp(() => {
      throw notFound();
    });
    await expect(gone.store.delete("1b4e28ba-2fa1-41d2-883f-0016d3cca427")).resolves.toBeUndefined();
    expect(gone.requests).toHaveLength(1);
  });

  it("refuses ids that would name a secret outside its prefix, without sending anything", async () => {
    const { store, requests } = setUp();
    for (const id of ["../other-app/key", "a/b", "", "x".repeat(129)]) {
      await expect(store.get(id), id).rejects.toThrow(/Invalid secret id/);
      await expect(store.delete(id), id).rejects.toThrow(/Invalid secret id/);
    }
    expect(requests).toEqual([]);
  });
});
