// Where to go after sign-in: same-site paths only. An open redirect after sign-in would hand the
// fresh session's page to anyone's site; `//host` and `/\host` are other sites to a browser.
export const SAME_SITE_PATH = /^\/(?!\/)[\w\-/?=&%.]*$/;

export function safeNextPath(value: unknown): string | undefined {
  return typeof value === "string" && SAME_SITE_PATH.test(value) ? value : undefined;
}
