import { NoSuchKey, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { S3BinaryStore } from "@edp/core/binaries/s3-binary-store";
import { AWS_PORT_ACTIONS, iamActionOf, type PortMethod } from "@edp/core/runtime/aws-actions";
import { describe, expect, it } from "vitest";
import { intercept, offlineClientConfig, type Responder, type SentRequest } from "../support/aws-intercept.js";

const BUCKET = "edp-test-binaries";

function setUp(respond?: Responder) {
  const client = new S3Client(offlineClientConfig);
  const requests = intercept(client, respond);
  return { store: new S3BinaryStore(client, BUCKET), requests };
}

function expectGranted(method: PortMethod, requests: SentRequest[]) {
  for (const request of requests) expect(AWS_PORT_ACTIONS[method] as readonly string[]).toContain(iamActionOf("s3", request.command));
}

describe("S3BinaryStore", () => {
  it("puts the bytes under the key in the bucket", async () => {
    const { store, requests } = setUp();
    const data = Buffer.from("print('hello')\n");
    await store.put("internal/5f0c1d2e-0000-4000-8000-000000000001", data);
    expect(requests).toEqual([
      {
        command: "PutObjectCommand",
        input: {
          Bucket: BUCKET,
          Key: "internal/5f0c1d2e-0000-4000-8000-000000000001",
          Body: data,
          ContentType: "application/octet-stream",
        },
      },
    ]);
    expectGranted("binaries.put", requests);
  });

  it("reads the bytes back", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const { store, requests } = setUp(() => ({ Body: { transformToByteArray: async () => bytes } }));
    expect(await store.get("internal/abc")).toEqual(Buffer.from(bytes));
    expect(requests).toEqual([{ command: "GetObjectCommand", input: { Bucket: BUCKET, Key: "internal/abc" } }]);
    expectGranted("binaries.get", requests);
  });

  it("reads a missing key (NoSuchKey) as undefined", async () => {
    const { store } = setUp(() => {
      throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } });
    });
    expect(await store.get("internal/missing")).toBeUndefined();
  });

  it("passes other errors on, AccessDenied included (a 403 is not a missing key)", async () => {
    const { store } = setUp(() => {
      throw new S3ServiceException({
        name: "AccessDenied",
        $fault: "client",
        message: "Access Denied",
        $metadata: { httpStatusCode: 403 },
      });
    });
    await expect(store.get("internal/x")).rejects.toThrow("Access Denied");
  });

  it("deletes the key", async () => {
    const { store, requests } = setUp();
    await store.delete("internal/abc");
    expect(requests).toEqual([{ command: "DeleteObjectCommand", input: { Bucket: BUCKET, Key: "internal/abc" } }]);
    expectGranted("binaries.delete", requests);
  });

  it("refuses keys it did not build, without sending anything", async () => {
    const { store, requests } = setUp();
    for (const key of ["../etc/passwd", "internal/../../x", "/absolute", "internal/a b", ""]) {
      await expect(store.put(key, Buffer.alloc(1)), key).rejects.toThrow(/Unsafe binary key/);
      await expect(store.get(key), key).rejects.toThrow(/Unsafe binary key/);
    }
    expect(requests).toEqual([]);
  });
});
