import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { inject } from "vitest";
import { DEMO_USERS } from "../../../lib/demo/users";
import { CHROMIUM } from "./chromium";

// Debian's chromium driven by playwright-core (never a downloaded browser), a fresh profile per file.

export const SCREENSHOTS = path.resolve(import.meta.dirname, "../screenshots");

export type Session = { context: BrowserContext; page: Page; close(): Promise<void> };

export async function openBrowser(options: { mobile?: boolean } = {}): Promise<Session> {
  // A fresh profile (user data dir) per browser, removed on close.
  const profile = mkdtempSync(path.join(os.tmpdir(), "payrun-e2e-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    ...(options.mobile
      ? { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
      : { viewport: { width: 1280, height: 900 } }),
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export const baseUrl = () => inject("baseUrl");

/** Local demo sign-in: the button of that demo user on /sign-in. */
export async function signInAs(page: Page, role: "payee" | "platform_admin" | "finance") {
  const user = DEMO_USERS.find((u) => u.role === role)!;
  await page.goto(`${baseUrl()}/sign-in`);
  await page.getByRole("button", { name: `Sign in as ${user.name}` }).click();
  await page.waitForURL(role === "payee" ? /\/dashboard/ : /\/ops/);
}

/** A browser of its own, signed in as that demo user. */
export async function openSignedIn(role: "payee" | "platform_admin" | "finance") {
  const session = await openBrowser();
  await signInAs(session.page, role);
  return session;
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The rendered (visible) text of a locator, as a user reads it. */
export function textOf(locator: Locator): Promise<string> {
  return locator.innerText();
}
