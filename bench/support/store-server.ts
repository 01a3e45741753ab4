/**
 * dynalite (in memory, on 127.0.0.1) in a process of its own, for the scale benchmarks: the
 * process that sweeps or launches then holds no table, so its memory and CPU are its own, as a
 * Lambda function's are beside DynamoDB. Prints one JSON line ({endpoint}) once it listens, and
 * exits when its standard input closes or it gets SIGTERM/SIGINT.
 */
import type { AddressInfo } from "node:net";
import dynalite from "dynalite";

const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
await new Promise<void>((resolve, reject) => {
  server.once("error", reject);
  server.listen(0, "127.0.0.1", () => resolve());
});
const stop = () => server.close(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
