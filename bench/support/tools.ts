import { TOOLS, type Tool } from "../../test/support/tools.js";
import { SkipBenchmark } from "./cli.js";

/** The tools the SSH benchmarks need: a real sshd, ssh-keygen for its keys, setsid for the engine's launches. */
export const SSH_TOOLS: Tool[] = [TOOLS.sshd, TOOLS.sshKeygen, TOOLS.setsid];

export function missingTools(tools: Tool[] = SSH_TOOLS): Tool[] {
  return tools.filter((tool) => !tool.present());
}

/** Throws SkipBenchmark saying what to install when a tool is missing. */
export function requireSshTools(): void {
  const missing = missingTools();
  if (missing.length > 0) {
    throw new SkipBenchmark(
      `missing ${missing.map((t) => t.name).join(", ")}; install with: ${[...new Set(missing.map((t) => t.install))].join(" && ")}`,
    );
  }
}
