/**
 * The plain facts of a spark cluster's connection, apart from its schema (connection.ts), which
 * checks keys with ssh2: the registration and the job rules need these in every function, the
 * schema only where a cluster is registered or an engine runs (issue 17.1).
 */
export const SECRET_FIELDS = ["private_key"] as const;

/** A POSIX environment variable name: the only keys that can be exported without quoting. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
