import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** A program (or module) some tests need, and how to install it. */
export interface Tool {
  name: string;
  /** True when the tool is usable on this machine. */
  present(): boolean;
  install: string;
}

export function executable(path: string, install: string): Tool {
  return {
    name: path,
    install,
    present: () => {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}

export function onPath(command: string, install: string): Tool {
  return {
    name: command,
    install,
    present: () => {
      try {
        execFileSync("/bin/sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    },
  };
}

export const TOOLS = {
  sshd: executable("/usr/sbin/sshd", "apt-get install openssh-server"),
  /** The git job binary tests serve repositories with `git http-backend` (issue 16.1). */
  git: executable("/usr/lib/git-core/git-http-backend", "apt-get install git"),
  sshKeygen: onPath("ssh-keygen", "apt-get install openssh-client"),
  setsid: onPath("setsid", "apt-get install util-linux"),
  ps: onPath("ps", "apt-get install procps"),
  java: onPath("java", "apt-get install openjdk-17-jdk-headless"),
  javac: onPath("javac", "apt-get install openjdk-17-jdk-headless"),
  jar: onPath("jar", "apt-get install openjdk-17-jdk-headless"),
  chromium: executable("/usr/bin/chromium", "apt-get install chromium"),
  pyspark: {
    name: "pyspark",
    install: "pip install pyspark",
    present: () => {
      try {
        execFileSync("python3", ["-c", "import pyspark"], { stdio: "ignore" });
        return true;
      } catch {
        return false;
      }
    },
  },
} satisfies Record<string, Tool>;

/**
 * Whether tests needing these tools run. Outside CI a missing tool skips them with a message saying
 * what to install; in CI (`CI` set) the tests run anyway and `assertPresent` fails them, so a CI
 * image that lost a tool cannot pass by skipping.
 */
export function requireTools(...tools: Tool[]): { run: boolean; assertPresent(): void } {
  const missing = tools.filter((tool) => !tool.present());
  const message = `missing ${missing.map((tool) => tool.name).join(", ")}; install with: ${[...new Set(missing.map((tool) => tool.install))].join(" && ")}`;
  if (missing.length > 0 && !process.env.CI) console.warn(`Skipping tests that need real tools: ${message}`);
  return {
    run: missing.length === 0 || Boolean(process.env.CI),
    assertPresent() {
      if (missing.length > 0) throw new Error(`These tests need tools that are not installed (${message})`);
    },
  };
}
