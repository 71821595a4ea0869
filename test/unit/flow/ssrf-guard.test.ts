import { describe, expect, it } from "vitest";
import { isPrivateAddress, refuseUrl } from "../../../src/adapters/outbound/sender.js";

describe("the outbound SSRF guard", () => {
  it("refuses loopback, private, link-local and mapped addresses and allows public ones", () => {
    for (const a of [
      "127.0.0.1",
      "10.1.2.3",
      "172.20.0.1",
      "192.168.1.1",
      "169.254.169.254",
      "::1",
      "fe80::1",
      "fd00::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "0:0:0:0:0:ffff:127.0.0.1",
      "::ffff:a9fe:a9fe",
      "::7f00:1",
      "64:ff9b::a9fe:a9fe",
      "64:ff9b:1::a00:1",
      "2002:7f00:1::",
      "2001:0:4136:e378::1",
      "0.0.0.0",
    ])
      expect(isPrivateAddress(a), a).toBe(true);
    for (const a of ["93.184.216.34", "2606:4700::1111", "8.8.8.8", "::ffff:8.8.8.8", "::ffff:808:808"])
      expect(isPrivateAddress(a), a).toBe(false);
  });

  it("allows a private host only when listed, and only listed hosts once a list is set", () => {
    expect(refuseUrl(new URL("http://127.0.0.1:9/x"), [])).toMatch(/private/);
    expect(refuseUrl(new URL("http://127.0.0.1:9/x"), ["127.0.0.1"])).toBeUndefined();
    expect(refuseUrl(new URL("https://example.com/x"), ["hooks.example.org"])).toMatch(
      /not in OUTBOUND_ALLOWED_HOSTS/,
    );
    expect(refuseUrl(new URL("https://example.com/x"), [])).toBeUndefined();
    expect(refuseUrl(new URL("ftp://example.com/x"), [])).toMatch(/http/);
  });
});
