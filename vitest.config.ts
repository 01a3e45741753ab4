import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Integration and e2e tests start real servers (dynalite, sshd, Spark); give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // The dashboard's bundle, rebuilt when its sources are newer, before the browser tests serve it.
    globalSetup: ["test/support/dashboard-build.ts"],
    pool: "forks",
    maxWorkers: 2,
    env: { EDP_LOG_LEVEL: "WARN", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
