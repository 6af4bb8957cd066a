-- Summarise each block range of the effective-time BRIN index as soon as it is full (an
-- unsummarised range is read whole by every query on effective_at). ALTER instead of the drop and
-- create drizzle-kit writes: no rebuild of a large index, no moment without it.
ALTER INDEX "ledger_entries_effective_brin" SET (autosummarize = on);
