import type { ReactNode } from "react";

/** A list with nothing in it: say so, and say what would fill it. */
export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <p className="empty-title">{title}</p>
      {children ? <p className="muted">{children}</p> : null}
    </div>
  );
}

/** Something could not be read: what failed and what to do about it. */
export function ErrorState({ title, error, hint }: { title: string; error?: unknown; hint?: ReactNode }) {
  const message = error instanceof Error ? error.message : error ? String(error) : null;
  return (
    <div className="error" role="alert">
      <strong>{title}</strong>
      {message ? <p className="muted small">{message}</p> : null}
      {hint ? <p>{hint}</p> : null}
    </div>
  );
}

/** A flash message carried in the URL after a server action (?notice=... or ?error=...). */
export function Flash({ notice, error }: { notice?: string | null; error?: string | null }) {
  if (error) {
    return (
      <div className="error" role="alert">
        {error}
      </div>
    );
  }
  if (notice) {
    return (
      <div className="success" role="status">
        {notice}
      </div>
    );
  }
  return null;
}
