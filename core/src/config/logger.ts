import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { LogFormatter, Logger, LogItem } from "@aws-lambda-powertools/logger";
import type { LogAttributes, UnformattedAttributes } from "@aws-lambda-powertools/logger/types";

/**
 * The id of the request, launch or sweep being served. It lives in AsyncLocalStorage rather
 * than in the logger's keys because the local runtime serves many requests at once in one
 * process: a logger-wide key would be overwritten by whichever request set it last.
 */
const correlation = new AsyncLocalStorage<Correlation>();

interface Correlation {
  id: string;
  /** The invocation's Lambda context, per request: the local runtime serves many invocations at once. */
  lambda?: InvocationContext;
  /** With `lambda`: whether this invocation is the process's first, its cold start. */
  coldStart?: boolean;
}

/** The fields of Lambda's context that log lines carry. */
export interface InvocationContext {
  awsRequestId?: string;
  functionName?: string;
  invokedFunctionArn?: string;
  memoryLimitInMB?: string | number;
}

/** Whether this process has served an invocation yet: the first one is its cold start. */
let invoked = false;

/**
 * Runs `work` with every log line it writes, however deep and however asynchronous, carrying
 * `id` (a fresh one when none is given) and, in a handler, that invocation's Lambda context
 * with `cold_start`. This is the handlers' only logging set-up: powertools' injectLambdaContext
 * would keep a second, process-wide copy of the context and read the environment on every
 * invocation, for sampling and event logging that EDP does not use.
 */
export function withCorrelationId<T>(id: string | undefined, work: () => T, lambda?: InvocationContext): T {
  const coldStart = lambda ? !invoked : undefined;
  if (lambda) invoked = true;
  return correlation.run({ id: id || randomUUID(), lambda, coldStart }, work);
}

/** Powertools' standard line, plus `correlation_id` (and the Lambda context) of the work being served. */
class CorrelatingLogFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const current = correlation.getStore();
    const lambda = current?.lambda;
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        ...(current ? { correlation_id: current.id } : {}),
        cold_start: current?.coldStart,
        function_arn: lambda?.invokedFunctionArn,
        function_memory_size: lambda?.memoryLimitInMB,
        function_name: lambda?.functionName,
        function_request_id: lambda?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes(additional);
  }
}

/**
 * The one logger: structured JSON (powertools), level from EDP_LOG_LEVEL. Every line
 * carries the correlation id of the request, launch or sweep that wrote it, and in a handler
 * that invocation's Lambda context (withCorrelationId). Never pass secrets or whole
 * cluster/data-source objects to it.
 */
export const logger = new Logger({
  serviceName: "edp",
  logLevel: (process.env.EDP_LOG_LEVEL ?? process.env.LOG_LEVEL ?? "INFO") as "INFO",
  logFormatter: new CorrelatingLogFormatter(),
});
