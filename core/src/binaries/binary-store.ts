/** Bytes of uploaded job binaries (`internal-db://`) and saved outputs: a directory locally, S3 on AWS. */
export interface BinaryStore {
  put(key: string, data: Buffer): Promise<void>;
  /** The bytes, or undefined when nothing is stored under the key. */
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
  /** Whether bytes are stored under the key, without reading them (content-addressed keys are written only if absent). */
  has(key: string): Promise<boolean>;
}
