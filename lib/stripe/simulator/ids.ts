const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
let counter = 0;

function randomChars(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[Math.floor(Math.random() * ALPHABET.length)];
  return out;
}

function base62(value: number): string {
  let out = "";
  let rest = value;
  do {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  } while (rest > 0);
  return out.padStart(6, "0");
}

/** A Stripe-looking id (`po_1Sim...`): a process-wide counter keeps ids unique, random tail keeps them opaque. */
export function newId(prefix: string): string {
  counter += 1;
  return `${prefix}_1Sim${base62(counter)}${randomChars(14)}`;
}

/**
 * A bank account's fingerprint: Stripe derives it from the account number, so one bank account
 * entered on two connected accounts has one fingerprint. Random here; tests that need two payees on
 * one bank pass the same fingerprint (setBankAccount).
 */
export function newFingerprint(): string {
  return randomChars(16);
}
