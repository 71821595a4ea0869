import { h, show, table } from "./dom.js";

interface Condition {
  fact?: string;
  path?: string;
  operator?: string;
  value?: unknown;
  factValue?: unknown;
  valueResult?: unknown;
  result?: boolean;
}
interface Evaluation {
  rule?: string;
  priority?: number;
  result?: boolean;
  conditions?: Condition[];
}
interface Reason extends Evaluation {
  message?: string;
  nearestMisses?: Evaluation[];
  experiment?: { id: string; variant: string };
}

const asArray = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

function verdict(ok: boolean | undefined): HTMLElement {
  return h("span", { class: ok ? "pass" : "fail" }, ok ? "✔ passed" : "✘ failed");
}

function conditionRows(conds: readonly Condition[]) {
  return conds.map((c) => [
    verdict(c.result),
    `${c.fact ?? "?"}${c.path ? ` ${c.path}` : ""}`,
    c.operator ?? "?",
    h("code", {}, show(c.value)),
    h("code", {}, show(c.factValue)),
  ]);
}

const HEADERS = ["result", "fact", "operator", "expected", "actual value"];

/** The winning reasons and every rule's evaluation, with passed/failed conditions and the facts' values. */
export function renderTrace(decision: Record<string, unknown>, title = "Decision trace"): HTMLElement {
  const reasons = asArray<Reason>(decision.reasons);
  const evaluations = asArray<Evaluation>(decision.evaluations);
  const out = h("section", { class: "trace", "aria-label": title }, h("h3", {}, title));
  for (const r of reasons) {
    out.append(
      h(
        "div",
        { class: "reason" },
        h(
          "p",
          {},
          h("strong", {}, "Why: "),
          r.rule && r.conditions?.length ? `rule ${r.rule} (priority ${r.priority ?? "?"}) matched. ` : "",
          r.message ?? "",
        ),
        r.experiment ? h("p", {}, `Experiment ${r.experiment.id}: variant ${r.experiment.variant}`) : null,
        asArray<Condition>(r.conditions).length
          ? table(`Conditions of ${r.rule ?? "the winning rule"}`, HEADERS, conditionRows(r.conditions ?? []))
          : null,
        ...asArray<Evaluation>(r.nearestMisses).map((m) =>
          table(`Near miss: ${m.rule} (priority ${m.priority})`, HEADERS, conditionRows(m.conditions ?? [])),
        ),
      ),
    );
  }
  if (evaluations.length > 0) {
    const details = h("details", {}, h("summary", {}, `Every rule evaluated (${evaluations.length})`));
    for (const e of [...evaluations].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))) {
      details.append(
        h(
          "div",
          { class: "evaluation" },
          h("h4", {}, verdict(e.result), ` ${e.rule ?? "?"} · priority ${e.priority ?? "?"}`),
          table(`Conditions of ${e.rule}`, HEADERS, conditionRows(e.conditions ?? [])),
        ),
      );
    }
    out.append(details);
  }
  return out;
}
