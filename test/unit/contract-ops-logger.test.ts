import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { scrubText } from "../../src/adapters/logger.js";

describe("log scrubbing (no secret, token or e-mail in a log line)", () => {
  it("removes any e-mail address from a log string", () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.string(), (email, around) => {
        const out = scrubText(`${around} failed for ${email}, retrying ${around}`);
        expect(out).not.toContain(email);
      }),
    );
  });

  it("removes addresses with a dotless or non-ASCII domain, which the contact schema accepts", () => {
    for (const email of ["ops@intranet", "jane@bücher.de", "x@y.z"])
      expect(scrubText(`contact ${email} bounced`)).toBe("contact [email] bounced");
  });

  it("removes configured secrets, whsec_ values, bearer credentials, URL passwords and ?token= values", () => {
    const out = scrubText(
      "tok api-token-0123456789 sig whsec_QUJDRA== auth Bearer abc.def-ghi redis://u:hunter22@h:6379 https://x.example/h?token=s3cr3t&a=1",
      ["api-token-0123456789"],
    );
    for (const s of ["api-token-0123456789", "whsec_QUJDRA==", "abc.def-ghi", "hunter22", "s3cr3t"])
      expect(out).not.toContain(s);
    expect(out).toContain("a=1");
  });

  it("leaves ordinary text alone", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 ._-]*$/), (s) => {
        expect(scrubText(s)).toBe(s);
      }),
    );
  });
});
