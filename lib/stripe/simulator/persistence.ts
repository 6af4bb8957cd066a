import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { IdempotencyStore, SavedResponse } from "./idempotency";
import type { SavedSimulatorState, SimulatorState } from "./state";

// The embedded default keeps Payrun's database across restarts, so the simulator must keep the
// Stripe side too, or every stored acct_/po_ id would be a 404 after `npm start` again.

const FORMAT_VERSION = 1;

interface SavedFile {
  version: number;
  state: SavedSimulatorState;
  idempotency: Array<[string, SavedResponse]>;
}

export class StatePersistence {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly filePath: string,
    private readonly state: SimulatorState,
    private readonly idempotency: IdempotencyStore,
    private readonly debounceMs = 1000,
  ) {}

  /** Loads a saved file if there is one; returns whether it did. A corrupt file is left alone and ignored. */
  load(): boolean {
    if (!existsSync(this.filePath)) return false;
    try {
      const saved = JSON.parse(readFileSync(this.filePath, "utf8")) as SavedFile;
      if (saved.version !== FORMAT_VERSION) return false;
      this.state.importState(saved.state);
      this.idempotency.importState(saved.idempotency);
      return true;
    } catch (error) {
      console.warn(`[stripe-simulator] ignoring unreadable state file ${this.filePath}: ${String(error)}`);
      return false;
    }
  }

  /** Saves soon (debounced): called after anything that may have changed state. */
  scheduleSave(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.saveNow();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes the whole state atomically (temp file, then rename). */
  saveNow(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const saved: SavedFile = {
      version: FORMAT_VERSION,
      state: this.state.exportState(),
      idempotency: this.idempotency.exportState(),
    };
    mkdirSync(path.dirname(this.filePath), { recursive: true });
    const temporary = `${this.filePath}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(saved));
    renameSync(temporary, this.filePath);
  }
}
