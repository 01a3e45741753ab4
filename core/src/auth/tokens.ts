import { createHash, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import { UnauthorizedError } from "../errors.js";
import type { Store } from "../store/store.js";

/**
 * API tokens. A token is 32 random bytes; only its SHA-256 is stored, mapped to the
 * project it acts for, so a copy of the table reveals no usable token.
 */
export class TokenService {
  /**
   * Known tokens, for a minute: without it every request pays a second DynamoDB read
   * before its own. A revoked token may therefore work for up to a minute, the same
   * trade API Gateway's authorizer cache makes.
   */
  private readonly known = new LRUCache<string, string>({ max: 10_000, ttl: 60_000 });

  constructor(private readonly store: Store) {}

  /** Creates a token for a project and returns it; this is the only time it is seen in clear. */
  async issue(projectId: string, label = "api"): Promise<string> {
    const token = `edp_${randomBytes(32).toString("base64url")}`;
    await this.store.putToken(hashToken(token), projectId, label);
    return token;
  }

  /** Stores a token chosen elsewhere (e.g. from configuration). */
  async register(token: string, projectId: string, label = "configured"): Promise<void> {
    await this.store.putToken(hashToken(token), projectId, label);
  }

  /** The project a token acts for; a missing or unknown token is 401. */
  async authenticate(token: string | undefined): Promise<{ projectId: string }> {
    if (!token) throw new UnauthorizedError();
    const hash = hashToken(token);
    const projectId = this.known.get(hash) ?? (await this.store.getTokenProject(hash));
    if (!projectId) throw new UnauthorizedError("The token is not valid");
    this.known.set(hash, projectId);
    return { projectId };
  }
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
