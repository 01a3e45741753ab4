import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { TokenService } from "@edp/core/auth/tokens";
import { type LocalPorts, startLocalPorts } from "@edp/core/runtime/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const TABLE = "edp-token-test";

/** scripts/create-token.ts, run as an operator would, against dynalite instead of a deployed table. */
function createToken(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, ["--import", "tsx", "scripts/create-token.ts", ...args], {
    env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", ...env },
    timeout: 60_000,
  });
}

describe("scripts/create-token.ts", () => {
  let ports: LocalPorts;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "edp-token-"));
    ports = await startLocalPorts({ dataDir, persist: false, tableName: TABLE });
  });

  afterAll(async () => {
    await ports?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("prints a token, alone on stdout, that the API authenticates for the project", async () => {
    const { stdout, stderr } = await createToken(["--project", "team-a", "--label", "ci"], {
      EDP_TABLE_NAME: TABLE,
      EDP_DYNAMODB_ENDPOINT: ports.dynamoEndpoint,
    });
    const token = stdout.trim();
    expect(token).toMatch(/^edp_[A-Za-z0-9_-]{43}$/);
    expect(stderr).toContain("team-a");
    expect(stderr).not.toContain(token);
    expect(await new TokenService(ports.store).authenticate(token)).toEqual({ projectId: "team-a" });
  });

  it("refuses to run without a project, and with a project name that is not one", async () => {
    const env = { EDP_TABLE_NAME: TABLE, EDP_DYNAMODB_ENDPOINT: ports.dynamoEndpoint };
    await expect(createToken([], env)).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--project is required") });
    await expect(createToken(["--project", "a b"], env)).rejects.toMatchObject({ code: 2, stdout: "" });
  });
});
