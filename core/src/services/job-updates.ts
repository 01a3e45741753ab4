import { InvalidDataError } from "../errors.js";
import type { JobManager } from "../manager/job-manager.js";
import type { JobExecutionUpdate } from "../model/job-execution.js";
import type { Caller } from "../services/access.js";

/**
 * PATCH /v2/jobs/{id}: `{"info": {"status": "cancel"}}` cancels; anything else changes the
 * flags. Sahara's clients may also send `suspend`, which no engine here supports, so it is
 * refused with Sahara's own words.
 */
export function updateJob(jobs: JobManager, caller: Caller, id: string, update: JobExecutionUpdate) {
  if (update.info?.status === "suspend") throw new InvalidDataError("Engine doesn't support suspending job feature");
  return update.info ? jobs.cancel(caller, id) : jobs.updateFlags(caller, id, update);
}
