import { logger } from "../config/logger.js";
import { describeError } from "../errors.js";

/**
 * Runs work that reaches a cluster inside an HTTP request, for at most `deadlineMs`
 * (DESIGN.md rule 6: API Gateway gives up after 29 s, while a hung node holds a command for
 * the full command timeout). Resolves to `{ value }`, or to undefined once the deadline has
 * passed; the work is then left to finish on its own, and what it returns or throws is only
 * logged. Anything it writes is version-conditioned, so a late write never overwrites a newer one.
 */
export async function beforeDeadline<T>(deadlineMs: number, work: () => Promise<T>): Promise<{ value: T } | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const running = work();
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve(undefined);
    }, deadlineMs);
  });
  try {
    return await Promise.race([running.then((value) => ({ value })), deadline]);
  } finally {
    clearTimeout(timer);
    if (timedOut)
      running.catch((error) =>
        logger.warn("Cluster call finished with an error after its request's deadline", { error: describeError(error) }),
      );
  }
}
