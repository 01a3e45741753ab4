/** Names of timed actions, unique per execution or series (EventBridge Scheduler: at most 64 of [0-9a-zA-Z-_.]). */
export const launchScheduleName = (executionId: string) => `edp-launch-${executionId}`;
export const deadlineScheduleName = (executionId: string) => `edp-deadline-${executionId}`;
export const seriesScheduleName = (seriesId: string) => `edp-series-${seriesId}`;
