/**
 * Simulated time in Unix seconds: wall-clock time plus an offset that tests and drills move forward.
 * Object timestamps, idempotency expiry, payout arrival and automatic payouts all read it, so a test
 * can "wait" a day in a millisecond. Webhook signatures use real time, as the receiving SDK checks
 * them against its own clock.
 */
export class SimulatedClock {
  private offsetSeconds = 0;

  nowSeconds(): number {
    return Math.floor(Date.now() / 1000) + this.offsetSeconds;
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new Error("seconds must be a non-negative number");
    this.offsetSeconds += Math.floor(seconds);
  }

  reset(): void {
    this.offsetSeconds = 0;
  }

  /**
   * Put a fresh simulator's clock at a past instant, so demo data can have history (earnings
   * before a past payout cycle). Real Stripe time never runs backwards: only the demo seed uses it,
   * before anything is created.
   */
  startAt(unixSeconds: number): void {
    this.offsetSeconds = Math.floor(unixSeconds) - Math.floor(Date.now() / 1000);
  }

  /** How far simulated time is ahead of wall-clock time, for persistence. */
  get offset(): number {
    return this.offsetSeconds;
  }

  set offset(seconds: number) {
    this.offsetSeconds = Math.floor(seconds);
  }
}
