import { describe, expect, it } from "vitest";
import { fingerprintForm, parseStripeForm } from "../../../lib/stripe/simulator/form";

describe("Stripe form encoding", () => {
  it("decodes nested brackets, indexed and empty-index arrays", () => {
    const parsed = parseStripeForm(
      "type=express&settings[payouts][schedule][interval]=manual&metadata[payee_id]=p%201&expand[0]=latest_charge&expand[1]=customer&types[]=a&types[]=b",
    );
    expect(parsed).toEqual({
      type: "express",
      settings: { payouts: { schedule: { interval: "manual" } } },
      metadata: { payee_id: "p 1" },
      expand: ["latest_charge", "customer"],
      types: ["a", "b"],
    });
  });

  it("decodes percent-encoded brackets and arrays of objects", () => {
    const parsed = parseStripeForm("items%5B0%5D%5Bprice%5D=p1&items%5B1%5D%5Bprice%5D=p2&name=a+b");
    expect(parsed).toEqual({ items: [{ price: "p1" }, { price: "p2" }], name: "a b" });
  });

  it("fingerprints parameters regardless of order", () => {
    expect(fingerprintForm("a=1&b=2")).toBe(fingerprintForm("b=2&a=1"));
    expect(fingerprintForm("a=1&b=2")).not.toBe(fingerprintForm("a=1&b=3"));
  });
});
