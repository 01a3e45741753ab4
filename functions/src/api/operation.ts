import type * as z from "@edp/core/model/zod";
import type { Core } from "@edp/core/runtime/core";
import type { Caller } from "@edp/core/services/access";

/** Which Lambda function serves an operation (DESIGN.md: create, run, cancel, status, sweep). */
export type HandlerGroup = "create" | "status" | "cancel";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** What an operation returns: a JSON body (or raw bytes) and the status code. */
export interface OperationResult {
  status: number;
  body?: unknown;
  /** Raw bytes, for binary downloads. */
  bytes?: Buffer;
  /** `body` already serialized (conditionalJson hashes it), sent as it is rather than stringified again. */
  json?: string;
  headers?: Record<string, string>;
}

export interface OperationInput<P, Q, B> {
  core: Core;
  caller: Caller;
  params: P;
  query: Q;
  body: B;
  headers: Record<string, string | undefined>;
}

/**
 * One API operation: its route, the zod schemas its input must pass, and the call into
 * core. Handlers are generated from these; the OpenAPI document is generated from the
 * same schemas, so the two cannot disagree.
 */
export interface Operation<P = unknown, Q = unknown, B = unknown> {
  operationId: string;
  summary: string;
  method: HttpMethod;
  /** Path with `{name}` parameters, as API Gateway writes routes. */
  path: string;
  group: HandlerGroup;
  /** Operations that answer without a token (the OpenAPI document). */
  public?: boolean;
  params?: z.ZodMiniType<P>;
  query?: z.ZodMiniType<Q>;
  /** `json` bodies are parsed and validated; `raw` bodies are handed over as bytes. */
  body?: { kind: "json"; schema: z.ZodMiniType<B> } | { kind: "raw" };
  /** Response schema, for the OpenAPI document. */
  response?: { status: number; schema?: z.ZodMiniType };
  handle(input: OperationInput<P, Q, B>): Promise<OperationResult>;
}

/** Keeps each operation's parameter types while collecting them in one list. */
export function defineOperation<P, Q, B>(operation: Operation<P, Q, B>): Operation {
  return operation as unknown as Operation;
}
