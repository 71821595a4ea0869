import { api, describe, Problem } from "./api.js";
import { fill, h } from "./dom.js";
import { renderTrace } from "./trace.js";

interface Question {
  id: string;
  label?: string;
  help?: string;
  type?: string;
  values?: string[];
  min?: number;
  max?: number;
  required?: boolean;
}

const ROLES = ["", "executive_sponsor", "decision_maker", "influencer", "end_user", "admin"];

function questionField(q: Question): HTMLElement {
  const id = `q-${q.id}`;
  const label = `${q.label ?? q.id}${q.required ? " (required)" : ""}`;
  const help = q.help ? h("small", { id: `${id}-help` }, q.help) : null;
  const described = q.help ? `${id}-help` : undefined;
  const data = { "data-question": q.id, "data-type": q.type ?? "text" };
  switch (q.type) {
    case "number":
    case "integer":
      return h(
        "div",
        { class: "field" },
        h("label", { for: id }, label),
        h("input", {
          id,
          type: "number",
          step: q.type === "integer" ? 1 : "any",
          min: q.min,
          max: q.max,
          required: q.required,
          "aria-describedby": described,
          ...data,
        }),
        help,
      );
    case "boolean":
    case "enum": {
      const values = q.type === "boolean" ? ["true", "false"] : (q.values ?? []);
      return h(
        "div",
        { class: "field" },
        h("label", { for: id }, label),
        h(
          "select",
          { id, required: q.required, "aria-describedby": described, ...data },
          h("option", { value: "" }, "— not answered —"),
          ...values.map((v) =>
            h("option", { value: v }, q.type === "boolean" ? (v === "true" ? "yes" : "no") : v),
          ),
        ),
        help,
      );
    }
    case "multi":
      return h(
        "fieldset",
        { class: "field multi", ...data, "aria-describedby": described },
        h("legend", {}, label),
        ...(q.values ?? []).map((v) =>
          h("label", { class: "check" }, h("input", { type: "checkbox", value: v, name: id }), ` ${v}`),
        ),
        help,
      );
    case "date":
      return h(
        "div",
        { class: "field" },
        h("label", { for: id }, label),
        h("input", { id, type: "date", required: q.required, "aria-describedby": described, ...data }),
        help,
      );
    default:
      return h(
        "div",
        { class: "field" },
        h("label", { for: id }, label),
        h("input", { id, type: "text", maxlength: q.max, "aria-describedby": described, ...data }),
        help,
      );
  }
}

/** Reads the answers from the generated form, typed as the survey declares. */
function answersOf(form: HTMLElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const el of form.querySelectorAll<HTMLElement>("[data-question]")) {
    const id = el.dataset.question ?? "";
    const type = el.dataset.type;
    if (type === "multi") {
      const picked = [...el.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value);
      if (picked.length) out[id] = picked;
      continue;
    }
    const v = (el as HTMLInputElement | HTMLSelectElement).value;
    if (v === "") continue;
    if (type === "number" || type === "integer") out[id] = Number(v);
    else if (type === "boolean") out[id] = v === "true";
    else out[id] = v;
  }
  return out;
}

/**
 * The simulate panel: a form generated from survey.json, a role, an account id and a handover
 * JSON box; it shows the decision and the condition trace. `candidate()` returns the edited ruleset
 * (or undefined to simulate the active one).
 */
export function simulatePanel(
  survey: () => unknown,
  candidate: () => { files: Record<string, unknown> } | undefined,
) {
  const section = h(
    "section",
    { class: "panel", "aria-labelledby": "sim-h" },
    h("h2", { id: "sim-h" }, "Simulate"),
  );
  const form = h("form", { class: "sim-form", novalidate: true });
  const result = h("div", { class: "sim-result", "aria-live": "polite" });
  const render = () => {
    const questions = ((survey() as { questions?: Question[] } | undefined)?.questions ?? []).filter(
      (q) => typeof q?.id === "string",
    );
    fill(
      form,
      h("div", { class: "fields" }, ...questions.map(questionField)),
      h(
        "div",
        { class: "fields" },
        h(
          "div",
          { class: "field" },
          h("label", { for: "sim-role" }, "Contact role"),
          h("select", { id: "sim-role" }, ...ROLES.map((r) => h("option", { value: r }, r || "— none —"))),
        ),
        h(
          "div",
          { class: "field" },
          h(
            "label",
            { for: "sim-account" },
            "Account id (uses its stored handover when the box below is empty)",
          ),
          h("input", { id: "sim-account", type: "text", autocomplete: "off" }),
        ),
      ),
      h(
        "div",
        { class: "field" },
        h("label", { for: "sim-handover" }, "Handover (canonical JSON, optional)"),
        h("textarea", {
          id: "sim-handover",
          rows: 5,
          spellcheck: "false",
          placeholder: '{ "account": { "industry": "banking" } }',
        }),
      ),
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", id: "sim-edited", checked: true }),
        " Use my edited rules (not yet published)",
      ),
      h("button", { type: "submit", class: "primary" }, "Simulate"),
    );
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = { survey: { answers: answersOf(form) } };
    const role = (form.querySelector("#sim-role") as HTMLSelectElement).value;
    const accountId = (form.querySelector("#sim-account") as HTMLInputElement).value.trim();
    const handoverText = (form.querySelector("#sim-handover") as HTMLTextAreaElement).value.trim();
    if (role) body.role = role;
    if (accountId) body.accountId = accountId;
    if (handoverText) {
      try {
        body.handover = JSON.parse(handoverText);
      } catch (err) {
        fill(
          result,
          h("p", { class: "error", role: "alert" }, `The handover is not valid JSON: ${String(err)}`),
        );
        return;
      }
    }
    if ((form.querySelector("#sim-edited") as HTMLInputElement).checked) {
      const c = candidate();
      if (!c) {
        fill(
          result,
          h("p", { class: "error", role: "alert" }, "Fix the JSON syntax errors first (see Problems)."),
        );
        return;
      }
      body.ruleset = c;
    }
    fill(result, h("p", {}, "Simulating…"));
    try {
      const { data } = await api<Record<string, unknown>>("POST", "/v1/admin/rules/simulate", body);
      const flow = (data.flow ?? {}) as { id?: string; version?: number | null };
      const step = data.step as { id?: string; title?: string } | null;
      fill(
        result,
        h(
          "div",
          { class: "decision", "data-testid": "sim-decision" },
          h(
            "p",
            { class: "big" },
            "Flow: ",
            h("strong", { "data-flow": flow.id ?? "" }, flow.id ?? "?"),
            flow.version ? ` v${flow.version}` : " (new or changed)",
          ),
          h("p", {}, `Rule: ${typeof data.rule === "string" ? data.rule : "none matched — default flow"}`),
          step ? h("p", {}, `First step: ${step.title ?? step.id}`) : null,
          h("p", {}, `Handover used: ${String(data.handoverSource ?? "none")}`),
        ),
        renderTrace(data),
      );
    } catch (err) {
      const items = err instanceof Problem ? err.errors : [];
      fill(
        result,
        h("p", { class: "error", role: "alert" }, describe(err)),
        items.length
          ? h("ul", { class: "problems" }, ...items.map((i) => h("li", {}, `${i.path ?? ""} ${i.message}`)))
          : null,
      );
    }
  });
  render();
  section.append(form, result);
  return { element: section, refresh: render };
}
