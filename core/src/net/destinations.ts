import { lookup as dnsLookup } from "node:dns/promises";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { EngineError } from "../errors.js";

/**
 * The one destination rule (DESIGN.md rule 11): every address EDP connects to on a user's behalf
 * (cluster endpoints, their redirects, SSH hosts, later webhooks and git remotes) is checked after
 * DNS resolution, and the connection is made to the address that was checked, so a name that
 * re-resolves elsewhere (DNS rebinding) cannot swap it. Loopback, link-local (cloud metadata
 * included), private, shared, multicast and reserved addresses are denied unless the operator lists
 * the range in EDP_ALLOW_DESTINATIONS.
 */

/** What the local runtime allows by default: its own loopback, where a developer's clusters run. */
export const LOCAL_DEFAULT_ALLOWED = ["127.0.0.0/8", "::1/128"] as const;

/** Denied ranges, with the word the refusal uses for each. */
const DENIED: readonly (readonly [string, number, "ipv4" | "ipv6", string])[] = [
  ["0.0.0.0", 8, "ipv4", "unspecified"],
  ["10.0.0.0", 8, "ipv4", "private"],
  ["100.64.0.0", 10, "ipv4", "shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "ipv4", "loopback"],
  ["169.254.0.0", 16, "ipv4", "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "ipv4", "private"],
  ["192.0.0.0", 24, "ipv4", "reserved"],
  ["192.168.0.0", 16, "ipv4", "private"],
  ["198.18.0.0", 15, "ipv4", "reserved (benchmarking)"],
  ["224.0.0.0", 4, "ipv4", "multicast"],
  ["240.0.0.0", 4, "ipv4", "reserved"],
  ["::", 128, "ipv6", "unspecified"],
  ["::1", 128, "ipv6", "loopback"],
  ["fc00::", 7, "ipv6", "private (unique local, cloud metadata)"],
  ["fe80::", 10, "ipv6", "link-local"],
  ["ff00::", 8, "ipv6", "multicast"],
];

/** Resolves a name to every address it has; injectable so tests decide names without DNS. */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

export type Decision = { allowed: true } | { allowed: false; reason: string };

/** A refused destination: a clear message, and nothing was sent. */
export class DestinationDeniedError extends EngineError {}

export class DestinationRule {
  private readonly allowed = new BlockList();
  private readonly denied = DENIED.map(([network, prefix, type, kind]) => {
    const list = new BlockList();
    list.addSubnet(network, prefix, type);
    return { list, kind };
  });

  /**
   * `allowedRanges`: CIDRs such as `10.1.0.0/16` or `fd00::/8` (see parseAllowedDestinations).
   * `onlyListed`: the rule for plain http (webhooks, git remotes), which may go only to a listed
   * range, since anything else must be https.
   */
  constructor(
    private readonly allowedRanges: readonly string[],
    private readonly resolver: Resolver = systemResolver,
    private readonly onlyListed = false,
  ) {
    for (const range of parseAllowedDestinations(allowedRanges.join(","))) this.allowed.addSubnet(range.network, range.prefix, range.type);
  }

  /** The same rule for a plain-http URL: only to the ranges EDP_ALLOW_DESTINATIONS lists. */
  forPlainHttp(): DestinationRule {
    return new DestinationRule(this.allowedRanges, this.resolver, true);
  }

  /** The rule for a URL's scheme: plain http is held to the listed ranges, anything else to the rule itself. */
  forProtocol(protocol: string): DestinationRule {
    return protocol.replace(/:$/, "") === "http" ? this.forPlainHttp() : this;
  }

  /** The decision for one literal address. */
  decide(address: string): Decision {
    const type = isIP(address) === 6 ? "ipv6" : isIP(address) === 4 ? "ipv4" : undefined;
    if (!type) return { allowed: false, reason: `'${address}' is not an IP address` };
    // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) reaches the IPv4 host: judge that one.
    const mapped = type === "ipv6" ? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1] : undefined;
    if (mapped) return this.decide(mapped);
    if (this.allowed.check(address, type)) return { allowed: true };
    const hit = this.denied.find((entry) => entry.list.check(address, type));
    if (hit) return { allowed: false, reason: `${address} is a ${hit.kind} address` };
    return this.onlyListed
      ? { allowed: false, reason: `${address} would be reached over plain http, which must be https` }
      : { allowed: true };
  }

  /**
   * Resolves `host` and returns the address to connect to, or throws DestinationDeniedError. A name
   * is refused if any of its addresses is denied, so which one a client picks cannot matter.
   */
  async resolve(host: string): Promise<{ address: string; family: 4 | 6 }> {
    const literal = host.replace(/^\[(.*)\]$/, "$1");
    const addresses = isIP(literal)
      ? [{ address: literal, family: isIP(literal) }]
      : await this.resolver(literal).catch((error: NodeJS.ErrnoException) => {
          throw new EngineError(`Cannot resolve '${host}': ${error.code ?? error.message}`);
        });
    if (addresses.length === 0) throw new EngineError(`Cannot resolve '${host}': no addresses`);
    for (const { address } of addresses) {
      const decision = this.decide(address);
      if (!decision.allowed) throw denied(host, decision.reason);
    }
    return { address: addresses[0].address, family: addresses[0].family === 6 ? 6 : 4 };
  }

  /** A `lookup` for net/http that resolves through the rule, so the socket opens to the checked address. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      ({ address, family }) => {
        if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
        else callback(null, address, family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, "", 0),
    );
  };
}

/** The rule for configured ranges; unset (engines built directly, as tests do) means the local runtime's default. */
export function destinationRuleFor(allowedRanges: readonly string[] | undefined): DestinationRule {
  return new DestinationRule(allowedRanges ?? LOCAL_DEFAULT_ALLOWED);
}

function denied(host: string, reason: string): DestinationDeniedError {
  return new DestinationDeniedError(`Refusing to connect to '${host}': ${reason}, and EDP_ALLOW_DESTINATIONS does not list its range`);
}

/**
 * Parses EDP_ALLOW_DESTINATIONS: comma-separated CIDRs (a bare address means just that address).
 * Throws a plain Error naming the bad entry, so settings can report it at start-up.
 */
export function parseAllowedDestinations(value: string): { network: string; prefix: number; type: "ipv4" | "ipv6" }[] {
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const [network, prefixText, ...rest] = entry.split("/");
      const version = isIP(network);
      const max = version === 6 ? 128 : 32;
      const prefix = prefixText === undefined ? max : Number(prefixText);
      if (version === 0 || rest.length > 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max || prefixText === "") {
        throw new Error(`'${entry}' is not a CIDR range such as 10.0.0.0/8 or fd00::/8`);
      }
      return { network, prefix, type: version === 6 ? "ipv6" : "ipv4" };
    });
}
