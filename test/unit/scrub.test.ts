import { REDACTED, Scrubber } from "@edp/core/secrets/scrub";
import { describe, expect, it } from "vitest";

describe("the scrubber for remote text", () => {
  it("9.16 removes every secret value the operation sent, in the forms a remote side echoes", () => {
    const password = "pa$$ word/+&=1";
    const scrubber = new Scrubber([password, "Basic aGFkb29wOnNlY3JldA==", undefined, 42]);
    const echoes = [
      `you sent ${password}`,
      `base64 ${Buffer.from(password).toString("base64")}`,
      `url ${encodeURIComponent(password)}`,
      `json ${JSON.stringify({ p: password })}`,
      "header Basic aGFkb29wOnNlY3JldA==",
      "token aGFkb29wOnNlY3JldA==",
    ];
    for (const echo of echoes) {
      const scrubbed = scrubber.scrub(echo);
      expect(scrubbed, echo).toContain(REDACTED);
      expect(scrubbed).not.toContain(password);
      expect(scrubbed).not.toContain("aGFkb29wOnNlY3JldA==");
    }
  });

  it("9.16 removes each line of a multi-line secret, as a stderr excerpt shows part of a key", () => {
    const key = "-----BEGIN KEY-----\nAAAABBBBCCCCDDDDEEEE\nFFFFGGGGHHHHIIIIJJJJ\n-----END KEY-----\n";
    const scrubbed = new Scrubber([key]).scrub("Error: line FFFFGGGGHHHHIIIIJJJJ\nError: AAAABBBBCCCCDDDDEEEE");
    expect(scrubbed).toBe(`Error: line ${REDACTED}\nError: ${REDACTED}`);
  });

  it("9.16 blanks values after credential-looking keys (the masking rule) and HTTP credentials it never saw", () => {
    const scrubber = new Scrubber();
    expect(scrubber.scrub("fs.s3a.secret.key=abc123xyz fs.s3a.endpoint=http://s3")).toBe(
      `fs.s3a.secret.key=${REDACTED} fs.s3a.endpoint=http://s3`,
    );
    expect(scrubber.scrub('{"password": "hunter2", "user": "bob"}')).toBe(`{"password": "${REDACTED}", "user": "bob"}`);
    expect(scrubber.scrub("AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI")).toBe(`AWS_SECRET_ACCESS_KEY: ${REDACTED}`);
    expect(scrubber.scrub("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y")).toBe(`Authorization: Bearer ${REDACTED}`);
  });

  it("9.16 leaves ordinary text alone and ignores values too short to be secrets", () => {
    const scrubber = new Scrubber(["no", "1"]);
    const text = "The job exited with status 1: no such file /data/in";
    expect(scrubber.scrub(text)).toBe(text);
  });

  it("9.16 scrubs errors in place, dropping the cause chain that holds the raw text", () => {
    const scrubber = new Scrubber(["sekret-value-9"]);
    const error = new Error("denied for sekret-value-9", { cause: new Error("raw body sekret-value-9") });
    const scrubbed = scrubber.scrubError(error) as Error;
    expect(scrubbed).toBe(error);
    expect(scrubbed.message).toBe(`denied for ${REDACTED}`);
    expect(scrubbed.cause).toBeUndefined();
    expect(String(scrubbed.stack)).not.toContain("sekret-value-9");
    expect(scrubber.scrubValue({ status: "FAILED", error: "x sekret-value-9", details: { token: "t", n: 1 } })).toEqual({
      status: "FAILED",
      error: `x ${REDACTED}`,
      details: { token: REDACTED, n: 1 },
    });
  });
});
