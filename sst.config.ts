/// <reference path="./.sst/platform/config.d.ts" />

/**
 * EDP on AWS. `npx sst deploy --stage <name>` creates everything in infra/, one module per
 * concern; docs/deploying-aws.md explains deploying. SST forbids top-level imports here:
 * the modules are imported inside run(), in dependency order.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "edp",
      home: "aws",
      // The CLI refuses to run with any other version; package.json pins the same one.
      version: "4.17.1",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: process.env.AWS_REGION ?? "us-east-1" } },
    };
  },
  async run() {
    const { table, bucket } = await import("./infra/storage");
    const { scheduleGroup, schedulerRole } = await import("./infra/scheduler");
    const { run } = await import("./infra/launcher");
    const { api, handlers } = await import("./infra/api");
    const { sweep } = await import("./infra/sweep");
    const { router } = await import("./infra/dashboard");
    return {
      api: api.url,
      // The dashboard, and the API beside it at /v2, on one origin.
      dashboard: router.url,
      table: table.name,
      bucket: bucket.name,
      scheduleGroup: scheduleGroup.name,
      schedulerRole: schedulerRole.arn,
      runFunction: run.name,
      createFunction: handlers.create.name,
      statusFunction: handlers.status.name,
      cancelFunction: handlers.cancel.name,
      sweepFunction: sweep.name,
    };
  },
});
