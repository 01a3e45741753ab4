/**
 * The HTTP API itself (API Gateway v2), apart from its routes (infra/api.ts): every function is
 * given its URL as EDP_PUBLIC_BASE_URL, the address clusters call back on when a job ends, and the
 * routes need the functions, so the API exists first.
 */
export const api = new sst.aws.ApiGatewayV2("Api", {
  // Tokens travel in headers, never cookies, and Sahara's clients are not browsers.
  cors: false,
  accessLog: { retention: "1 month" },
});
