import Link from "next/link";

export default function Home() {
  return (
    <main>
      <h1>Payrun</h1>
      <p>
        Payouts for marketplaces: earnings land in a double-entry ledger, and every eligible payee is paid their
        available balance on the 1st and 15th, exactly once.
      </p>
      <ul>
        <li>
          <Link href="/dashboard">Payee dashboard</Link>: balance, next payout, history
        </li>
        <li>
          <Link href="/ops">Ops console</Link>: runs, failures, webhooks, holds, audit log
        </li>
      </ul>
      <p className="muted">
        Internal endpoints (<code>/internal/payouts/run</code>, <code>/internal/payouts/health</code>, ...) need the{" "}
        <code>X-Cron-Secret</code> header; see docs/RUNBOOK.md.
      </p>
    </main>
  );
}
