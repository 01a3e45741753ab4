/**
 * The one rule for which configuration keys hold credentials. Responses blank their values,
 * logs never carry them, and remote error text is scrubbed of them (secrets/scrub.ts).
 *
 * It covers Sahara's own rule (keys ending in password, secret, secret key, access key or
 * token, whatever the separator) and the Hadoop Swift user (`fs.swift.service.<name>.username`),
 * which Sahara also kept out of view because it pairs with the password.
 */
const CREDENTIAL_KEY = /(password|passwd|secret|secret[._-]?key|access[._-]?key|token|credentials?)$/i;
const SWIFT_USER_KEY = /^fs\.swift\.service\.[^.]+\.(username|user)$/i;

export function isCredentialKey(key: string): boolean {
  return CREDENTIAL_KEY.test(key) || SWIFT_USER_KEY.test(key);
}

/** A copy of `configs` with every credential-looking value blanked, as Sahara renders them. */
export function maskCredentials<V>(configs: Record<string, V>): Record<string, V | ""> {
  return Object.fromEntries(Object.entries(configs).map(([key, value]) => [key, isCredentialKey(key) ? "" : value]));
}
