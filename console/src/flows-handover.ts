/**
 * Hands a candidate ruleset from the Flows page to the Rules page, through this tab's
 * sessionStorage: the Rules page takes it once (it is removed on read), loads it into the editor
 * as unsaved edits, and the person simulates, backtests and publishes it there. Nothing is
 * published from here.
 */
const KEY = "or-candidate-ruleset";

export interface Candidate {
  /** Why this candidate exists, shown on the Rules page (e.g. the suggestion id). */
  readonly label: string;
  readonly ruleset: { readonly files: Record<string, unknown> };
}

/** Leaves a candidate for the Rules page and opens it. */
export function openInRulesEditor(candidate: Candidate): void {
  sessionStorage.setItem(KEY, JSON.stringify(candidate));
  location.hash = "#/rules";
}

/** The candidate left for the Rules page, if any; it is removed so a reload shows the active rules. */
export function takeCandidate(): Candidate | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (raw === null) return undefined;
  sessionStorage.removeItem(KEY);
  try {
    const c = JSON.parse(raw) as Partial<Candidate>;
    if (typeof c.label !== "string" || !c.ruleset || typeof c.ruleset.files !== "object") return undefined;
    return { label: c.label, ruleset: { files: { ...c.ruleset.files } } };
  } catch {
    return undefined;
  }
}
