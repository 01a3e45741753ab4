import ssh2 from "ssh2";

/**
 * An ed25519 key pair from ssh2, as the unit tests use them. About 1 in 256 of the public keys
 * ssh2.utils.generateKeyPairSync writes is malformed (a leading zero byte of the key is dropped, so the
 * blob says 31 bytes), and OpenSSH and ssh2's own parser refuse it; such a pair is drawn again.
 */
export function ed25519KeyPair(comment?: string): { public: string; private: string } {
  for (;;) {
    const pair = ssh2.utils.generateKeyPairSync("ed25519", comment === undefined ? {} : { comment });
    if (!(ssh2.utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
