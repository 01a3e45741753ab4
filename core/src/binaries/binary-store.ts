/** Bytes of uploaded job binaries (`internal-db://`) and saved outputs: a directory locally, S3 on AWS. */
export interface BinaryStore {
  put(key: string, data: Buffer): Promise<void>;
  /** The bytes, or undefined when nothing is stored under the key. */
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}
