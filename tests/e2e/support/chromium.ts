// Debian's Chromium: the browser tests never download a browser of their own.
export const CHROMIUM = "/usr/bin/chromium";
