import type { Operation } from "../../operation.js";
import { clusterOperations } from "./clusters.js";
import { dataSourceOperations } from "./data-sources.js";
import { jobBinaryOperations } from "./job-binaries.js";
import { jobTemplateOperations } from "./job-templates.js";
import { jobOperations } from "./jobs.js";
import { notificationOperations } from "./notifications.js";

/** What the `create` function serves: every create, update and delete but a job's, and starting jobs. */
export const createOperations: Operation[] = [
  ...clusterOperations,
  ...dataSourceOperations,
  ...jobBinaryOperations,
  ...jobTemplateOperations,
  ...jobOperations,
  ...notificationOperations,
];
