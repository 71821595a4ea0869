import { canonicalJson } from "../../core/ruleset/index.js";

/** What changed between two rulesets, by file and by routing rule name. */
export interface RulesetDiff {
  readonly filesAdded: string[];
  readonly filesRemoved: string[];
  readonly filesChanged: string[];
  readonly rulesAdded: string[];
  readonly rulesRemoved: string[];
  readonly rulesChanged: string[];
}

type Files = Readonly<Record<string, unknown>>;

/** Routing rules by name across every `routing/*.json` file (position and file included in the comparison). */
function rulesByName(files: Files): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, content] of Object.entries(files)) {
    if (!file.startsWith("routing/") || typeof content !== "object" || content === null) continue;
    const rules = (content as { rules?: unknown }).rules;
    if (!Array.isArray(rules)) continue;
    rules.forEach((r, index) => {
      const name = typeof r === "object" && r !== null ? (r as { name?: unknown }).name : undefined;
      if (typeof name === "string") out.set(name, canonicalJson({ file, index, r }));
    });
  }
  return out;
}

function compare<T>(before: ReadonlyMap<string, T>, after: ReadonlyMap<string, T>) {
  const added = [...after.keys()].filter((k) => !before.has(k)).sort();
  const removed = [...before.keys()].filter((k) => !after.has(k)).sort();
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k)).sort();
  return { added, removed, changed };
}

/** Compares two `{ files }` maps; `before` undefined means everything is new. */
export function diffRulesets(before: Files | undefined, after: Files): RulesetDiff {
  const canon = (f: Files) => new Map(Object.entries(f).map(([k, v]) => [k, canonicalJson(v)]));
  const files = compare(canon(before ?? {}), canon(after));
  const rules = compare(rulesByName(before ?? {}), rulesByName(after));
  return {
    filesAdded: files.added,
    filesRemoved: files.removed,
    filesChanged: files.changed,
    rulesAdded: rules.added,
    rulesRemoved: rules.removed,
    rulesChanged: rules.changed,
  };
}

/** A short sentence for the audit log, e.g. `2 files changed (routing/a.json, …); rules: +1 ~1`. */
export function summarizeDiff(d: RulesetDiff): string {
  const list = (xs: string[]) => (xs.length <= 3 ? xs.join(", ") : `${xs.slice(0, 3).join(", ")}, …`);
  const parts: string[] = [];
  if (d.filesAdded.length) parts.push(`${d.filesAdded.length} file(s) added (${list(d.filesAdded)})`);
  if (d.filesRemoved.length) parts.push(`${d.filesRemoved.length} file(s) removed (${list(d.filesRemoved)})`);
  if (d.filesChanged.length) parts.push(`${d.filesChanged.length} file(s) changed (${list(d.filesChanged)})`);
  const rules: string[] = [];
  if (d.rulesAdded.length) rules.push(`+${d.rulesAdded.length} (${list(d.rulesAdded)})`);
  if (d.rulesRemoved.length) rules.push(`-${d.rulesRemoved.length} (${list(d.rulesRemoved)})`);
  if (d.rulesChanged.length) rules.push(`~${d.rulesChanged.length} (${list(d.rulesChanged)})`);
  if (rules.length) parts.push(`rules ${rules.join(" ")}`);
  return parts.length ? parts.join("; ") : "no changes";
}
