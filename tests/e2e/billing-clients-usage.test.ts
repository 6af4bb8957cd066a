import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSignedIn, type Session, textOf } from "./support/browser";

// The clients and usage pages over the demo data (no client yet: clients come from the API): an
// admin and a finance user both reach them from the Billing tab; each says where its rows come
// from; finance gets no form that changes anything.

describe("clients and usage pages", () => {
  let admin: Session;
  let finance: Session;
  beforeAll(async () => {
    admin = await openSignedIn("platform_admin");
    finance = await openSignedIn("finance");
  });
  afterAll(async () => {
    await admin?.close();
    await finance?.close();
  });

  for (const who of ["admin", "finance"] as const) {
    it(`${who}: clients and usage render with their empty states and no write for finance`, async () => {
      const { page } = who === "admin" ? admin : finance;
      const base = page.url().replace(/\/(ops|dashboard).*/, "");
      await page.goto(`${base}/ops/billing/clients`);
      await page.getByRole("heading", { name: "Clients", level: 1 }).waitFor();
      expect(await textOf(page.locator("main"))).toContain("No clients");
      expect(await textOf(page.locator("main"))).toContain("POST /api/v1/clients");

      await page.goto(`${base}/ops/billing/usage`);
      await page.getByRole("heading", { name: "Usage", level: 1 }).waitFor();
      const main = await textOf(page.locator("main"));
      expect(main).toContain("No usage recorded yet.");
      expect(main).toContain("No live export yet.");
      // a filter form reads (GET); none writes
      expect(await page.locator(`main form[method="post" i]`).count()).toBe(0);
    });
  }
});
