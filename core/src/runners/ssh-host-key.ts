import { createHash } from "node:crypto";
import ssh2 from "ssh2";

/** Host key types a cluster may pin, with the ssh2 algorithms that present them. */
const ALGORITHMS_BY_KEY_TYPE = {
  "ssh-ed25519": ["ssh-ed25519"],
  "ecdsa-sha2-nistp256": ["ecdsa-sha2-nistp256"],
  "ecdsa-sha2-nistp384": ["ecdsa-sha2-nistp384"],
  "ecdsa-sha2-nistp521": ["ecdsa-sha2-nistp521"],
  // RSA host keys are presented through the SHA-2 signature algorithms; the key blob stays "ssh-rsa".
  "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
} as const;

type PinnableKeyType = keyof typeof ALGORITHMS_BY_KEY_TYPE;
export type HostKeyAlgorithm = (typeof ALGORITHMS_BY_KEY_TYPE)[PinnableKeyType][number];

export interface PinnedHostKey {
  type: PinnableKeyType;
  /** The SSH wire-format public key, which is what ssh2 hands the host verifier. */
  blob: Buffer;
  fingerprint: string;
  /** Only these algorithms are offered, so the server cannot pick a key type other than the pinned one. */
  algorithms: HostKeyAlgorithm[];
}

/**
 * Parses a pinned host key: an OpenSSH public key line (`ssh-ed25519 AAAA… comment`, as in the host's
 * `.pub` file) or an `ssh-keyscan` / known_hosts line with the host name in front. Throws a plain Error
 * naming what is wrong; callers wrap it in the error type of their layer.
 */
export function parsePinnedHostKey(line: string): PinnedHostKey {
  const tokens = line.trim().split(/\s+/);
  const typeIndex = tokens.findIndex((token) => token in ALGORITHMS_BY_KEY_TYPE);
  if (typeIndex < 0 || typeIndex > 1 || tokens[typeIndex + 1] === undefined) {
    throw new Error(
      `must be an OpenSSH public key line such as 'ssh-ed25519 AAAA…' (types: ${Object.keys(ALGORITHMS_BY_KEY_TYPE).join(", ")})`,
    );
  }
  const type = tokens[typeIndex] as PinnableKeyType;
  const base64 = tokens[typeIndex + 1];
  const parsed = ssh2.utils.parseKey(`${type} ${base64}`);
  if (parsed instanceof Error || parsed.isPrivateKey()) throw new Error(`is not a valid ${type} public key`);
  const blob = parsed.getPublicSSH();
  if (!blob.equals(Buffer.from(base64, "base64"))) throw new Error(`is not a valid ${type} public key`);
  return { type, blob, fingerprint: fingerprintOf(blob), algorithms: [...ALGORITHMS_BY_KEY_TYPE[type]] };
}

/** OpenSSH's SHA256 fingerprint, as `ssh-keygen -lf` prints it. */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** The key type written inside a wire-format key blob (a length-prefixed string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return "unknown";
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + length).toString("latin1");
}
