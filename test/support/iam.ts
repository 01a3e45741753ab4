import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, PutUserPolicyCommand } from "@aws-sdk/client-iam";
import type { MotoServer } from "./moto.js";

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Requests `bootstrapAdmin` sends: start moto with `enforceIamAfter` this many, so that only they go unchecked. */
export const BOOTSTRAP_REQUESTS = 3;

/**
 * The administrator everything else in an IAM-enforcing moto is made with: a user allowed
 * everything, and its access key. Its three requests are the ones moto lets through unchecked.
 */
export function bootstrapAdmin(moto: MotoServer): Promise<AccessKey> {
  const allowAll = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] });
  return createUserWithPolicy(moto, { accessKeyId: "bootstrap", secretAccessKey: "bootstrap" }, "admin", "admin", allowAll);
}

/** Creates an IAM user with one inline policy, as `credentials`, and returns the user's new access key (three requests). */
export async function createUserWithPolicy(
  moto: MotoServer,
  credentials: AccessKey,
  userName: string,
  policyName: string,
  policyDocument: string,
): Promise<AccessKey> {
  const iam = new IAMClient({ endpoint: moto.endpoint, region: moto.region, credentials });
  try {
    await iam.send(new CreateUserCommand({ UserName: userName }));
    await iam.send(new PutUserPolicyCommand({ UserName: userName, PolicyName: policyName, PolicyDocument: policyDocument }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey!;
    return { accessKeyId: key.AccessKeyId!, secretAccessKey: key.SecretAccessKey! };
  } finally {
    iam.destroy();
  }
}
