import type { Operation } from "../../operation.js";
import { jobSeriesOperations } from "./job-series.js";
import { jobOperations } from "./jobs.js";

/** What the `cancel` function serves: cancelling a job (PATCH, which also changes its flags), deleting it, and stopping a series. */
export const cancelOperations: Operation[] = [...jobOperations, ...jobSeriesOperations];
