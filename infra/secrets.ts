import { arnOf, secretPrefix } from "./names";

/**
 * Secrets (SSH private keys, data-source and binary credentials) are not stack resources:
 * the functions create one Secrets Manager secret per stored value at run time, named
 * `<secretPrefix><uuid>`, and DynamoDB keeps only the uuid (core/src/secrets/aws-secrets-manager-store.ts).
 * The stack's part is the name prefix, handed to the functions as EDP_SECRET_PREFIX, and the
 * ARN pattern their IAM policies are scoped to. Secrets Manager appends `-XXXXXX` to a
 * secret's ARN, which the trailing `*` covers.
 */
export { secretPrefix };
export const secretArns = arnOf("secretsmanager", `secret:${secretPrefix}*`);
