/**
 * The one rule for which configuration keys hold credentials. Responses blank their values,
 * logs never carry them, and remote error text is scrubbed of them (secrets/scrub.ts).
 *
 * It covers Sahara's own rule (keys ending in password, secret, secret key, access key or
 * token, whatever the separator) and the Hadoop Swift user (`fs.swift.service.<name>.username`),
 * which Sahara also kept out of view because it pairs with the password (also as Spark passes it,
 * `spark.hadoop.fs.swift...`). It also covers keys that merely contain secret, password or token
 * (`spark.hadoop.fs.s3a.session.token`, `spark.ssl.keyStorePassword`) and `.key` components (`spark.hadoop.fs.gs.auth.service.account.private.key`,
 * `spark.hadoop.fs.azure.account.key.<account>.dfs.core.windows.net`). Masking too much only blanks a
 * value in a response; masking too little leaks it.
 */
const CREDENTIAL_KEY = /(password|passwd|secret|secret[._-]?key|access[._-]?key|token|credentials?)$/i;
const CREDENTIAL_WORD = /(secret|password|passwd|token)/i;
const KEY_COMPONENT = /\.key(\.|$)/i;
const SWIFT_USER_KEY = /^(spark\.hadoop\.)?fs\.swift\.service\.[^.]+\.(username|user)$/i;

export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key) || CREDENTIAL_WORD.test(key) || KEY_COMPONENT.test(key) || SWIFT_USER_KEY.test(key);
}

/** The keys of `configs` whose values maskCredentials blanks, so a client knows which blanks are withheld values. */
export function credentialKeysOf(configs: Record<string, unknown> | undefined): string[] {
  return Object.keys(configs ?? {}).filter(isCredentialKey);
}

/** A copy of `configs` with every credential-looking value blanked, as Sahara renders them. */
export function maskCredentials<V>(configs: Record<string, V>): Record<string, V | ""> {
  return Object.fromEntries(Object.entries(configs).map(([key, value]) => [key, isCredentialKey(key) ? "" : value]));
}
