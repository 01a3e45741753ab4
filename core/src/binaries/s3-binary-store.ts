import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { BinaryStore } from "./binary-store.js";

/** Keys are built by EDP (e.g. `internal/<uuid>`), never taken from users; the same rule as the local store. */
const SAFE_KEY = /^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_.-]+)*$/;

/**
 * The AWS binary store: one object per key in the stack's private bucket (encrypted at rest
 * with S3's default SSE-S3). A missing key reads as undefined; that needs `s3:ListBucket`,
 * without which S3 answers 403 instead of 404 (core/src/runtime/aws-actions.ts grants it).
 */
export class S3BinaryStore implements BinaryStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, data: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: checked(key), Body: data, ContentType: "application/octet-stream" }),
    );
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: checked(key) }));
      if (!result.Body) return Buffer.alloc(0);
      return Buffer.from(await result.Body.transformToByteArray());
    } catch (error) {
      if (isNamed(error, "NoSuchKey")) return undefined;
      throw error;
    }
  }

  /** A HEAD: a missing key is a 404 (`NotFound`), given `s3:ListBucket` as for `get`. */
  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: checked(key) }));
      return true;
    } catch (error) {
      if (isNamed(error, "NotFound") || isNamed(error, "NoSuchKey")) return false;
      throw error;
    }
  }

  /** S3 deletes are idempotent: deleting a missing key succeeds. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: checked(key) }));
  }
}

function checked(key: string): string {
  if (!SAFE_KEY.test(key) || key.split("/").includes("..")) throw new Error(`Unsafe binary key: ${key}`);
  return key;
}

function isNamed(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
