import { describe, expect, it } from "vitest";
import { foreignActionOrigin } from "../../lib/auth/action-origin";

const headers = (h: Record<string, string>) => new Headers(h);

describe("server actions from another origin", () => {
  it("refuses an Origin that is not a URL, null, or another host (Next would answer 500)", () => {
    const host = { host: "127.0.0.1:3802" };
    expect(
      foreignActionOrigin("POST", "/ops", headers({ ...host, origin: "127.0.0.1:3802.evil.example" })),
    ).toBe("Origin is not a URL");
    expect(foreignActionOrigin("POST", "/ops", headers({ ...host, origin: "null" }))).toBe("Origin null");
    expect(
      foreignActionOrigin("POST", "/ops", headers({ ...host, origin: "http://127.0.0.1.evil.example:3802" })),
    ).toBe("Origin is another site");
    expect(foreignActionOrigin("POST", "/", headers({ origin: "http://x.example" }))).toBe(
      "Origin is another site",
    );
  });

  it("lets the site's own actions, origin-less requests, GETs and route handlers through", () => {
    expect(
      foreignActionOrigin(
        "POST",
        "/ops",
        headers({ host: "127.0.0.1:3802", origin: "http://127.0.0.1:3802" }),
      ),
    ).toBeNull();
    expect(
      foreignActionOrigin(
        "POST",
        "/ops",
        headers({
          host: "internal:3000",
          "x-forwarded-host": "pay.example.com",
          origin: "https://pay.example.com",
        }),
      ),
    ).toBeNull();
    expect(foreignActionOrigin("POST", "/ops", headers({ host: "127.0.0.1:3802" }))).toBeNull();
    expect(foreignActionOrigin("GET", "/ops", headers({ host: "a", origin: "garbage" }))).toBeNull();
    expect(
      foreignActionOrigin("POST", "/api/v1/payees", headers({ host: "a", origin: "garbage" })),
    ).toBeNull();
    expect(
      foreignActionOrigin("POST", "/webhooks/stripe", headers({ host: "a", origin: "garbage" })),
    ).toBeNull();
  });
});
