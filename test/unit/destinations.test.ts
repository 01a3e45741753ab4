import { DestinationDeniedError, DestinationRule, parseAllowedDestinations, type Resolver } from "@edp/core/net/destinations";
import { describe, expect, it } from "vitest";

/** Names resolved by the test itself: no DNS query leaves the machine, no traffic is sent anywhere. */
const NAMES: Record<string, string[]> = {
  "metadata.test": ["169.254.169.254"],
  "intranet.test": ["10.20.30.40"],
  "public.test": ["203.0.113.10", "2001:db8::10"],
  "rebinding.test": ["198.51.100.7", "127.0.0.1"],
  "ula.test": ["fd00:ec2::254"],
};
const resolver: Resolver = async (host) => {
  const addresses = NAMES[host];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

describe("the destination rule", () => {
  const strict = new DestinationRule([], resolver);

  it("9.9b denies loopback, link-local, private, metadata and reserved literal addresses", () => {
    for (const address of [
      "127.0.0.1",
      "127.255.0.9",
      "0.0.0.0",
      "10.0.0.1",
      "100.100.100.200",
      "169.254.169.254",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "224.0.0.251",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fd00:ec2::254",
      "fc00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:169.254.169.254",
    ]) {
      expect(strict.decide(address), address).toMatchObject({ allowed: false });
    }
    expect(strict.decide("169.254.169.254")).toEqual({
      allowed: false,
      reason: "169.254.169.254 is a link-local (cloud metadata) address",
    });
  });

  it("9.9b allows public addresses, and denied ranges the operator lists", () => {
    for (const address of ["203.0.113.10", "198.51.100.7", "172.32.0.1", "2001:db8::10", "::ffff:203.0.113.10"]) {
      expect(strict.decide(address), address).toEqual({ allowed: true });
    }
    const local = new DestinationRule(["127.0.0.0/8", "::1/128", "10.20.0.0/16"], resolver);
    expect(local.decide("127.0.0.1")).toEqual({ allowed: true });
    expect(local.decide("::1")).toEqual({ allowed: true });
    expect(local.decide("10.20.30.40")).toEqual({ allowed: true });
    expect(local.decide("10.21.0.1")).toMatchObject({ allowed: false });
    expect(local.decide("169.254.169.254")).toMatchObject({ allowed: false });
  });

  it("9.9b decides names after resolution: any denied address refuses the name, and the address checked is the one returned", async () => {
    await expect(strict.resolve("public.test")).resolves.toEqual({ address: "203.0.113.10", family: 4 });
    await expect(strict.resolve("metadata.test")).rejects.toThrow(
      "Refusing to connect to 'metadata.test': 169.254.169.254 is a link-local (cloud metadata) address",
    );
    await expect(strict.resolve("intranet.test")).rejects.toBeInstanceOf(DestinationDeniedError);
    await expect(strict.resolve("rebinding.test")).rejects.toThrow(/127\.0\.0\.1 is a loopback address/);
    await expect(strict.resolve("ula.test")).rejects.toThrow(/fd00:ec2::254/);
    await expect(strict.resolve("[::1]")).rejects.toThrow(/::1 is a loopback address/);
    await expect(strict.resolve("nowhere.test")).rejects.toThrow(/Cannot resolve 'nowhere.test': ENOTFOUND/);
    await expect(new DestinationRule(["10.20.0.0/16"], resolver).resolve("intranet.test")).resolves.toEqual({
      address: "10.20.30.40",
      family: 4,
    });
  });

  it("12.2 16.1 plain http goes only to a listed range; https keeps the rule's own answer; a denied range says why first", () => {
    const rule = new DestinationRule(["10.1.0.0/16"]);
    const http = rule.forProtocol("http:");
    expect(http.decide("10.1.2.3")).toEqual({ allowed: true });
    expect(http.decide("93.184.216.34")).toEqual({
      allowed: false,
      reason: "93.184.216.34 would be reached over plain http, which must be https",
    });
    expect(http.decide("10.2.0.1")).toEqual({ allowed: false, reason: "10.2.0.1 is a private address" });
    expect(rule.forProtocol("https:").decide("93.184.216.34")).toEqual({ allowed: true });
    expect(rule.forProtocol("https")).toBe(rule);
  });

  it("9.9b parses EDP_ALLOW_DESTINATIONS and refuses what is not a CIDR", () => {
    expect(parseAllowedDestinations("127.0.0.0/8, ::1/128,10.0.0.5")).toEqual([
      { network: "127.0.0.0", prefix: 8, type: "ipv4" },
      { network: "::1", prefix: 128, type: "ipv6" },
      { network: "10.0.0.5", prefix: 32, type: "ipv4" },
    ]);
    expect(parseAllowedDestinations("")).toEqual([]);
    for (const bad of ["10.0.0.0/33", "localhost", "10.0.0.0/", "::1/129", "1.2.3.4/8/9"]) {
      expect(() => parseAllowedDestinations(bad), bad).toThrow(/is not a CIDR range/);
    }
  });
});

describe("EDP_ALLOW_DESTINATIONS", () => {
  it("9.9b defaults to loopback for the local runtime and to nothing on AWS; a bad range fails at start-up", async () => {
    const { allowedDestinations, readSettings } = await import("@edp/core/config/settings");
    expect(allowedDestinations(readSettings({}))).toEqual(["127.0.0.0/8", "::1/128"]);
    expect(allowedDestinations(readSettings({ EDP_RUNTIME: "aws" }))).toEqual([]);
    expect(allowedDestinations(readSettings({ EDP_ALLOW_DESTINATIONS: "" }))).toEqual([]);
    expect(allowedDestinations(readSettings({ EDP_RUNTIME: "aws", EDP_ALLOW_DESTINATIONS: "10.1.0.0/16" }))).toEqual(["10.1.0.0/16"]);
    expect(() => readSettings({ EDP_ALLOW_DESTINATIONS: "10.0.0.0/8,intranet" })).toThrow(
      /EDP_ALLOW_DESTINATIONS: 'intranet' is not a CIDR range/,
    );
  });
});
