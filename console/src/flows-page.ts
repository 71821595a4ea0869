import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { api, describe, Problem } from "./api.js";
import { fill, h, table, when } from "./dom.js";
import { defaultRange, duration, pct, pValue, verdict } from "./flows-format.js";
import { openInRulesEditor } from "./flows-handover.js";
import type {
  ExperimentFigures,
  ExperimentsReport,
  FlowSegmentFigures,
  FlowsReport,
  InstancesReport,
  StuckReport,
  StuckRow,
  Suggestion,
  SuggestionsReport,
} from "./flows-types.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

const ALL = "";
const STUCK_ROWS = 200;
const HOUR_MS = 3_600_000;

/** The filters survive leaving the page and coming back (same tab). */
const filters = { ...defaultRange(Date.now()), flow: ALL, segment: ALL };

type Loaded<T> = { ok: true; data: T } | { ok: false; message: string };

interface Data {
  flows: Loaded<FlowsReport>;
  stuck: Loaded<StuckReport>;
  experiments: Loaded<ExperimentsReport>;
  suggestions: Loaded<SuggestionsReport>;
  instances: Loaded<InstancesReport>;
  /** flow id → step ids in definition order (from the active ruleset) */
  stepOrder: Map<string, string[]>;
}

let charts: Chart[] = [];
const destroyCharts = () => {
  for (const c of charts) c.destroy();
  charts = [];
};

async function load<T>(path: string): Promise<Loaded<T>> {
  try {
    return { ok: true, data: (await api<T>("GET", path)).data };
  } catch (e) {
    return {
      ok: false,
      message: e instanceof Problem && e.status === 404 ? "Not available on this server yet." : describe(e),
    };
  }
}

async function stepOrderOfActiveRules(): Promise<Map<string, string[]>> {
  const order = new Map<string, string[]>();
  const rules = await load<{ ruleset?: { files?: Record<string, unknown> } }>("/v1/admin/rules");
  if (!rules.ok) return order;
  for (const [file, doc] of Object.entries(rules.data.ruleset?.files ?? {})) {
    if (!file.startsWith("flows/") || !doc || typeof doc !== "object") continue;
    const d = doc as { id?: unknown; steps?: unknown };
    if (typeof d.id !== "string" || !Array.isArray(d.steps)) continue;
    order.set(
      d.id,
      d.steps.flatMap((s: unknown) =>
        s && typeof s === "object" && typeof (s as { id?: unknown }).id === "string"
          ? [(s as { id: string }).id]
          : [],
      ),
    );
  }
  return order;
}

const matchesFlow = (flow: string) => filters.flow === ALL || filters.flow === flow;
const matchesSegment = (segment: string) => filters.segment === ALL || filters.segment === segment;

function panel(id: string, title: string, ...body: Parameters<typeof h>[2][]): HTMLElement {
  return h(
    "section",
    { class: "panel wide", "aria-labelledby": id, "data-testid": id },
    h("h2", { id }, title),
    ...body,
  );
}

const failed = (l: { ok: false; message: string }) => h("p", { class: "error" }, l.message);

// --- per flow and segment -----------------------------------------------------------------

function kpis(f: FlowSegmentFigures): HTMLElement {
  const item = (label: string, value: string, detail?: string) =>
    h("div", {}, h("dt", {}, label), h("dd", {}, value, detail ? h("small", {}, ` ${detail}`) : null));
  return h(
    "dl",
    { class: "kpis" },
    item("Started", String(f.started), f.failed ? `${f.failed} failed` : undefined),
    item("Completion", pct(f.completionRate), `${f.completed} of ${f.started}`),
    item("Activation", pct(f.activationRate), `${f.activated} of ${f.started}`),
    item(
      "Time to complete",
      `median ${duration(f.timeToComplete.median)}`,
      `p90 ${duration(f.timeToComplete.p90)} (${f.timeToComplete.samples} completions)`,
    ),
    item(
      "NPS",
      f.nps.score === null ? "—" : String(f.nps.score),
      `${f.nps.promoters} promoters · ${f.nps.passives} passives · ${f.nps.detractors} detractors`,
    ),
  );
}

function orderedSteps(f: FlowSegmentFigures, order: Map<string, string[]>) {
  const known = order.get(f.flow) ?? [];
  const rank = (id: string) => {
    const i = known.indexOf(id);
    return i < 0 ? known.length : i;
  };
  // Stable: steps the definition does not know keep the order they were first seen in.
  return f.steps.map((s, i) => ({ s, i })).sort((x, y) => rank(x.s.stepId) - rank(y.s.stepId) || x.i - y.i);
}

function funnel(f: FlowSegmentFigures, order: Map<string, string[]>, caption: string): HTMLElement {
  const steps = orderedSteps(f, order).map(({ s }) => s);
  if (steps.length === 0) return h("p", { class: "hint" }, "No step events in this range yet.");
  const top = Math.max(f.started, ...steps.map((s) => s.entered), 1);
  return table(
    caption,
    ["Step", "Entered", "Of starts", "Completed", "Dropped off", "Overdue"],
    steps.map((s) => [
      h("span", {}, s.stepId, s.stage ? h("small", { class: "hint" }, ` ${s.stage}`) : null),
      h(
        "span",
        { class: "funnel-cell" },
        h("meter", {
          min: 0,
          max: top,
          value: s.entered,
          "aria-label": `${s.stepId}: ${s.entered} entered`,
        }),
        ` ${s.entered}`,
      ),
      pct(f.started > 0 ? s.entered / f.started : null, 0),
      String(s.completed),
      h(
        "span",
        { class: (s.dropOffRate ?? 0) >= 0.25 ? "fail" : "" },
        `${pct(s.dropOffRate)} (${s.dropOff})`,
      ),
      String(s.overdue),
    ]),
  );
}

function timeInStepChart(f: FlowSegmentFigures, order: Map<string, string[]>, title: string): HTMLElement {
  const steps = orderedSteps(f, order)
    .map(({ s }) => s)
    .filter((s) => s.timeInStep.samples > 0);
  if (steps.length === 0) return h("p", { class: "hint" }, "No completed steps in this range yet.");
  const hours = (ms: number | null) => (ms === null ? 0 : Math.round((ms / HOUR_MS) * 10) / 10);
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `${title}: bar chart of median and p90 hours per step (the table below has the numbers)`,
  });
  queueMicrotask(() => {
    if (!canvas.isConnected) return;
    charts.push(
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: steps.map((s) => s.stepId),
          datasets: [
            {
              label: "median (h)",
              data: steps.map((s) => hours(s.timeInStep.median)),
              backgroundColor: "#1d4ed8",
            },
            { label: "p90 (h)", data: steps.map((s) => hours(s.timeInStep.p90)), backgroundColor: "#b45309" },
          ],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          indexAxis: "y",
          scales: { x: { title: { display: true, text: "hours" } } },
        },
      }),
    );
  });
  return h(
    "div",
    {},
    h("div", { class: "chart" }, canvas),
    table(
      title,
      ["Step", "Median", "p90", "Samples"],
      steps.map((s) => [
        s.stepId,
        duration(s.timeInStep.median),
        duration(s.timeInStep.p90),
        String(s.timeInStep.samples),
      ]),
    ),
  );
}

function flowsSection(d: Data): HTMLElement {
  const id = "flows-figures";
  if (!d.flows.ok) return panel(id, "Funnels and outcomes", failed(d.flows));
  const rows = d.flows.data.flows.filter((f) => matchesFlow(f.flow) && matchesSegment(f.segment));
  if (rows.length === 0)
    return panel(
      id,
      "Funnels and outcomes",
      h("p", {}, "No customers started a flow in this range and filter."),
    );
  return panel(
    id,
    "Funnels and outcomes",
    h("p", { class: "hint" }, `${when(d.flows.data.from)} – ${when(d.flows.data.to)}`),
    ...rows.map((f, i) => {
      const title = `${f.flow} · ${f.segment}`;
      const hid = `fs-${i}`;
      return h(
        "article",
        { class: "flow-card", "aria-labelledby": hid, "data-flow": f.flow, "data-segment": f.segment },
        h("h3", { id: hid }, title),
        kpis(f),
        h("h4", {}, "Funnel"),
        funnel(f, d.stepOrder, `Funnel of ${title}: customers entering each step, in flow order`),
        h("h4", {}, "Time in step"),
        timeInStepChart(f, d.stepOrder, `Time in step for ${title}`),
      );
    }),
  );
}

// --- stuck past SLA -----------------------------------------------------------------------

function stuckSection(d: Data): HTMLElement {
  const id = "flows-stuck";
  const title = "Stuck past SLA";
  if (!d.stuck.ok) return panel(id, title, failed(d.stuck));
  const rows: StuckRow[] = d.stuck.data.stuck
    .filter((s) => matchesFlow(s.flow.id) && matchesSegment(s.segment))
    .sort((a, b) => b.overdueSeconds - a.overdueSeconds);
  if (rows.length === 0)
    return panel(id, title, h("p", { class: "ok" }, "Nobody is stuck past their step's SLA."));
  return panel(
    id,
    title,
    h(
      "p",
      {},
      `${rows.length} customer${rows.length === 1 ? "" : "s"} waiting past the due time, latest first.`,
      rows.length > STUCK_ROWS ? ` Showing the first ${STUCK_ROWS}.` : "",
    ),
    table(
      "Customers stuck past SLA, most overdue first",
      ["Account", "Late by", "Flow", "Segment", "Step", "Due", "In step since"],
      rows
        .slice(0, STUCK_ROWS)
        .map((s) => [
          h("a", { href: `#/accounts/${encodeURIComponent(s.accountId)}` }, s.accountId),
          h("strong", { class: "late" }, duration(s.overdueSeconds * 1000)),
          `${s.flow.id} v${s.flow.version}`,
          s.segment,
          `${s.step.id}${s.step.stage ? ` (${s.step.stage})` : ""}`,
          when(s.dueAt),
          when(s.stepEnteredAt),
        ]),
    ),
  );
}

// --- experiments --------------------------------------------------------------------------

function interval(ci: number[]): string {
  const [lo, hi] = ci;
  return lo === undefined || hi === undefined ? "" : `${pct(lo)} – ${pct(hi)}`;
}

function experimentCard(x: ExperimentFigures, i: number): HTMLElement {
  const hid = `exp-${i}`;
  const byName = new Map(x.variants.map((v) => [v.variant, v]));
  const verdicts = x.comparisons.map((c) => {
    const a = byName.get(c.a);
    const b = byName.get(c.b);
    return verdict({
      ...c,
      nA: a?.n ?? 0,
      nB: b?.n ?? 0,
      rateA: a?.[c.metric].rate ?? null,
      rateB: b?.[c.metric].rate ?? null,
    });
  });
  return h(
    "article",
    { class: "flow-card", "aria-labelledby": hid, "data-experiment": x.experiment },
    h("h3", { id: hid }, x.experiment),
    table(
      `Variants of ${x.experiment} (rates with 95 % intervals)`,
      ["Variant", "Flow", "Sample size", "Completion", "95 % interval", "Activation", "95 % interval"],
      x.variants.map((v) => [
        v.variant,
        v.flow,
        String(v.n),
        pct(v.completion.rate),
        interval(v.completion.ci95),
        pct(v.activation.rate),
        interval(v.activation.ci95),
      ]),
    ),
    verdicts.length === 0
      ? h("p", { class: "verdict pending" }, "Only one variant so far: nothing to compare yet.")
      : h(
          "ul",
          { class: "verdicts" },
          ...verdicts.map((v) => h("li", { class: `verdict ${v.tone}` }, v.text)),
        ),
  );
}

function experimentsSection(d: Data): HTMLElement {
  const id = "flows-experiments";
  const title = "Experiments";
  if (!d.experiments.ok) return panel(id, title, failed(d.experiments));
  const rows = d.experiments.data.experiments.filter((x) => x.variants.some((v) => matchesFlow(v.flow)));
  if (rows.length === 0) return panel(id, title, h("p", {}, "No experiment assigned anyone in this range."));
  return panel(
    id,
    title,
    h(
      "p",
      { class: "hint" },
      "Each variant is compared with the first by name (two-proportion z-test; significant needs p < 0.05 and 30 subjects per variant). Experiments span segments.",
    ),
    ...rows.map(experimentCard),
  );
}

// --- suggestions --------------------------------------------------------------------------

function suggestionCard(s: Suggestion, basedOn: number, i: number): HTMLElement {
  const hid = `sug-${i}`;
  const lift = `${(s.test.diff * 100).toFixed(1)} points`;
  return h(
    "article",
    { class: "flow-card", "aria-labelledby": hid, "data-suggestion": s.id },
    h("h3", { id: hid }, `Segment ${s.segment}: route to ${s.suggested.flow} instead of ${s.current.flow}`),
    h(
      "p",
      {},
      `${s.suggested.flow} completed ${pct(s.suggested.completionRate)} of ${s.suggested.started} starts in this segment; ` +
        `${s.current.flow}, which the segment mostly gets now, completed ${pct(s.current.completionRate)} of ${s.current.started} ` +
        `(+${lift}, p ${pValue(s.test.p)}${s.test.significant ? ", significant" : ""}).`,
    ),
    h(
      "details",
      {},
      h("summary", {}, `The proposed rule (${String(s.rule.name ?? s.id)}), against ruleset v${basedOn}`),
      h("pre", { class: "raw", tabindex: 0 }, JSON.stringify(s.rule, null, 2)),
    ),
    h(
      "button",
      {
        type: "button",
        class: "primary",
        "data-open-suggestion": s.id,
        onclick: () => openInRulesEditor({ label: `suggestion ${s.id}`, ruleset: s.ruleset }),
      },
      "Open in the Rules editor to simulate, backtest and publish",
    ),
  );
}

function suggestionsSection(d: Data): HTMLElement {
  const id = "flows-suggestions";
  const title = "Rule suggestions";
  if (!d.suggestions.ok) return panel(id, title, failed(d.suggestions));
  const { suggestions, basedOn } = d.suggestions.data;
  const rows = suggestions.filter(
    (s) => matchesSegment(s.segment) && (matchesFlow(s.current.flow) || matchesFlow(s.suggested.flow)),
  );
  return panel(
    id,
    title,
    h(
      "p",
      { class: "hint" },
      "Nothing changes until someone publishes: the button loads the candidate into the editor as unsaved edits.",
    ),
    rows.length === 0
      ? h("p", {}, "No suggestions: no segment is clearly better served by another flow in this range.")
      : rows.map((s, i) => suggestionCard(s, basedOn.rulesetVersion, i)),
  );
}

// --- instances right now ------------------------------------------------------------------

function instancesSection(d: Data): HTMLElement {
  const id = "flows-instances";
  const title = "Where instances are right now";
  if (!d.instances.ok) return panel(id, title, failed(d.instances));
  const { buckets, truncated, scanned } = d.instances.data;
  const rows = buckets.filter((b) => matchesFlow(b.flow));
  if (rows.length === 0) return panel(id, title, h("p", {}, "No flow instances."));
  const rank = (b: (typeof rows)[number]) => {
    const order = d.stepOrder.get(b.flow) ?? [];
    const i = b.step === null ? -1 : order.indexOf(b.step);
    return b.status !== "active" ? 10_000 : i < 0 ? 9_999 : i;
  };
  const sorted = [...rows].sort(
    (a, b) => a.flow.localeCompare(b.flow) || a.version - b.version || rank(a) - rank(b),
  );
  return panel(
    id,
    title,
    h(
      "p",
      { class: "hint" },
      `Live count of ${scanned} instances${truncated ? " (stopped early: there are more)" : ""}; not limited by the date range or segment.`,
    ),
    table(
      "Instances per flow version and current step",
      ["Flow", "Version", "Step or state", "Instances"],
      sorted.map((b) => [
        b.flow,
        `v${b.version}`,
        b.status === "active" ? (b.step ?? "—") : h("span", { class: "hint" }, `${b.status} (ended)`),
        b.status === "active" ? h("strong", {}, String(b.count)) : String(b.count),
      ]),
    ),
  );
}

// --- the page -----------------------------------------------------------------------------

function select(
  id: string,
  label: string,
  values: string[],
  current: string,
  all: string,
  onchange: () => void,
) {
  const el = h(
    "select",
    { id, onchange },
    h("option", { value: ALL }, all),
    ...values.map((v) => h("option", { value: v, selected: v === current }, v)),
  );
  return { el, field: h("div", { class: "field" }, h("label", { for: id }, label), el) };
}

/** The Flows page: funnels, outcomes, stuck customers, experiments and suggestions for a date range. */
export function flowsPage(root: HTMLElement): void {
  destroyCharts();
  const status = h("p", { "aria-live": "polite", class: "hint", "data-testid": "flows-status" });
  const body = h("div", { class: "flows-body" });
  const from = h("input", { id: "flows-from", type: "date", required: true, value: filters.from });
  const to = h("input", { id: "flows-to", type: "date", required: true, value: filters.to });
  const filterSlot = h("div", { class: "flows-filters-selects" });
  let data: Data | undefined;

  const render = () => {
    if (!data) return;
    destroyCharts();
    fill(
      body,
      stuckSection(data),
      flowsSection(data),
      instancesSection(data),
      experimentsSection(data),
      suggestionsSection(data),
    );
  };

  const renderFilters = (d: Data) => {
    const flows = new Set<string>();
    const segments = new Set<string>();
    if (d.flows.ok)
      for (const f of d.flows.data.flows) {
        flows.add(f.flow);
        segments.add(f.segment);
      }
    if (d.stuck.ok)
      for (const s of d.stuck.data.stuck) {
        flows.add(s.flow.id);
        segments.add(s.segment);
      }
    if (d.instances.ok) for (const b of d.instances.data.buckets) flows.add(b.flow);
    if (d.suggestions.ok) for (const s of d.suggestions.data.suggestions) segments.add(s.segment);
    for (const id of d.stepOrder.keys()) flows.add(id);
    const flow = select("flows-flow", "Flow", [...flows].sort(), filters.flow, "All flows", () => {
      filters.flow = flow.el.value;
      render();
    });
    const segment = select(
      "flows-segment",
      "Segment",
      [...segments].sort(),
      filters.segment,
      "All segments",
      () => {
        filters.segment = segment.el.value;
        render();
      },
    );
    fill(filterSlot, flow.field, segment.field);
  };

  const reload = async () => {
    filters.from = from.value || filters.from;
    filters.to = to.value || filters.to;
    status.textContent = "Loading…";
    const q = `?from=${encodeURIComponent(filters.from)}&to=${encodeURIComponent(filters.to)}`;
    const [flows, stuck, experiments, suggestions, instances, stepOrder] = await Promise.all([
      load<FlowsReport>(`/v1/admin/analytics/flows${q}`),
      load<StuckReport>("/v1/admin/analytics/stuck"),
      load<ExperimentsReport>(`/v1/admin/analytics/experiments${q}`),
      load<SuggestionsReport>(`/v1/admin/suggestions${q}`),
      load<InstancesReport>("/v1/admin/analytics/instances"),
      stepOrderOfActiveRules(),
    ]);
    if (!root.contains(body)) return; // the user left the page meanwhile
    data = { flows, stuck, experiments, suggestions, instances, stepOrder };
    renderFilters(data);
    render();
    status.textContent = `Showing ${filters.from} to ${filters.to} (UTC days).`;
  };

  fill(
    root,
    h("h1", { tabindex: -1 }, "Flows"),
    h(
      "form",
      {
        class: "panel flows-filters",
        "aria-label": "Date range and filters",
        onsubmit: (e: Event) => {
          e.preventDefault();
          if (from.value && to.value && from.value > to.value) {
            status.textContent = "The start date must not be after the end date.";
            from.focus();
            return;
          }
          void reload();
        },
      },
      h("div", { class: "field" }, h("label", { for: "flows-from" }, "From"), from),
      h("div", { class: "field" }, h("label", { for: "flows-to" }, "To"), to),
      h("button", { type: "submit", class: "flows-apply" }, "Show range"),
      filterSlot,
    ),
    status,
    body,
  );
  void reload();
}
