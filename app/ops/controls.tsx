import { ErrorState } from "@/app/_components/states";
import { SubmitButton } from "@/app/_components/submit-button";
import { formatDateTime } from "@/lib/dashboard/format";
import type { OpsOverview } from "@/lib/dashboard/ops";
import { setPauseAction, triggerRunAction } from "./actions";

/** The pause switch: state for everyone, the switch for admins. */
export function PausePanel({ pause, canAct }: { pause: OpsOverview["pause"]; canAct: boolean }) {
  if (!pause.ok) return <ErrorState title="The pause switch could not be read." error={pause.error} />;
  const p = pause.data;
  return (
    <section className="panel" aria-labelledby="pause-heading">
      <h2 id="pause-heading">Payouts</h2>
      <p data-testid="pause-state" aria-live="polite">
        {p.paused ? (
          <>
            <span className="badge bad">paused</span> No run moves money.
            {p.reason ? ` Reason: ${p.reason}.` : ""} {p.updatedBy ? `By ${p.updatedBy}` : ""}{" "}
            {p.at ? formatDateTime(p.at) : ""}
          </>
        ) : (
          <>
            <span className="badge ok">running</span> Scheduled runs pay on the 1st and 15th.
          </>
        )}
      </p>
      {p.byConfig ? (
        <p className="notice">PAYOUTS_PAUSED=true is set in the configuration; only a redeploy without it resumes.</p>
      ) : null}
      {canAct && !p.byConfig ? (
        p.paused ? (
          <form action={setPauseAction} className="inline-form">
            <input type="hidden" name="paused" value="false" />
            <label>
              Note (optional)
              <input name="reason" maxLength={500} />
            </label>
            <SubmitButton pendingText="Resuming…">Resume payouts</SubmitButton>
          </form>
        ) : (
          <form action={setPauseAction} className="inline-form">
            <input type="hidden" name="paused" value="true" />
            <label>
              Why pause?
              <input name="reason" required maxLength={500} placeholder="e.g. bank incident" />
            </label>
            <SubmitButton className="danger" pendingText="Pausing…">
              Pause payouts
            </SubmitButton>
          </form>
        )
      ) : null}
    </section>
  );
}

export function TriggerRunPanel() {
  return (
    <section className="panel" aria-labelledby="trigger-heading">
      <h2 id="trigger-heading">Start a run</h2>
      <p className="muted small">
        Leave the date empty for the latest cycle. A second start of the same cycle opens the existing run; a dry run
        reports what would be paid and moves nothing.
      </p>
      <form action={triggerRunAction} className="inline-form">
        <label>
          Cycle date
          <input type="date" name="cycleDate" />
        </label>
        <label className="row">
          <input type="checkbox" name="dryRun" /> Dry run
        </label>
        <SubmitButton pendingText="Starting…">Start a run</SubmitButton>
      </form>
    </section>
  );
}
