import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePorts } from "../support/sshd.js";

/**
 * The Spark cluster the tests start needs four ports at once. Asked for one at a time, the system
 * may hand out the same free port twice (it did in CI: the master's web UI and the worker's RPC
 * port were one port, and the cluster never came up), so the ports are taken together.
 */
describe("freePorts: loopback ports for the tests' own servers", () => {
  it("gives distinct ports, each of which can then be listened on", async () => {
    for (let round = 0; round < 20; round++) {
      const ports = await freePorts(4);
      expect(new Set(ports).size).toBe(4);
      const servers = await Promise.all(
        ports.map(
          (port) =>
            new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
              const server = createServer();
              server.once("error", reject);
              server.listen(port, "127.0.0.1", () => resolve(server));
            }),
        ),
      );
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
