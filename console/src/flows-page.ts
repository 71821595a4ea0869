import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";
import { api, describe, Problem } from "./api.js";
import { fill, h, show, table } from "./dom.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

type Row = Record<string, unknown>;
const LABEL_KEYS = [
  "flow",
  "flowId",
  "step",
  "stepId",
  "segment",
  "variant",
  "experiment",
  "name",
  "id",
  "rule",
  "accountId",
];
const COLORS = ["#1d4ed8", "#b45309", "#047857", "#7c3aed"];

/** Every array of objects inside an answer (analytics shapes may still change: render what is there). */
function findTables(value: unknown, name: string, depth = 0, out: { name: string; rows: Row[] }[] = []) {
  if (depth > 4 || value === null || typeof value !== "object") return out;
  if (Array.isArray(value)) {
    const rows = value.filter((x): x is Row => x !== null && typeof x === "object" && !Array.isArray(x));
    if (rows.length > 0) {
      out.push({ name, rows });
      rows.slice(0, 20).forEach((r, i) => {
        for (const [k, v] of Object.entries(r))
          if (Array.isArray(v) || (v && typeof v === "object"))
            findTables(v, `${name} › ${labelOf(r) ?? i} › ${k}`, depth + 1, out);
      });
    }
    return out;
  }
  for (const [k, v] of Object.entries(value)) findTables(v, name ? `${name} › ${k}` : k, depth + 1, out);
  return out;
}

function labelOf(r: Row): string | undefined {
  const parts = LABEL_KEYS.filter((k) => typeof r[k] === "string" || typeof r[k] === "number").slice(0, 2);
  const label = parts.map((k) => String(r[k])).join(" · ");
  if (label) return label;
  const firstString = Object.values(r).find((v) => typeof v === "string");
  return typeof firstString === "string" ? firstString : undefined;
}

function numericKeys(rows: Row[]): string[] {
  const keys = new Set<string>();
  for (const r of rows) for (const [k, v] of Object.entries(r)) if (typeof v === "number") keys.add(k);
  return [...keys].filter(
    (k) => k !== "version" && rows.every((r) => r[k] === undefined || typeof r[k] === "number"),
  );
}

let charts: Chart[] = [];

function chartOf(title: string, rows: Row[]): HTMLElement | null {
  // Counts and rates (0–1) on one axis hide each other: chart the counts when there are any.
  const all = numericKeys(rows);
  const counts = all.filter((k) => !/rate$/i.test(k));
  const keys = (counts.length > 0 ? counts : all).slice(0, 4);
  if (keys.length === 0 || rows.length < 1) return null;
  const labels = rows.slice(0, 40).map((r, i) => labelOf(r) ?? String(i + 1));
  const canvas = h("canvas", {
    role: "img",
    "aria-label": `${title}: bar chart of ${keys.join(", ")} (the table below has the numbers)`,
  });
  const box = h("div", { class: "chart" }, canvas);
  queueMicrotask(() => {
    charts.push(
      new Chart(canvas, {
        type: "bar",
        data: {
          labels,
          datasets: keys.map((k, i) => ({
            label: k,
            data: rows.slice(0, 40).map((r) => (typeof r[k] === "number" ? (r[k] as number) : 0)),
            backgroundColor: COLORS[i % COLORS.length] ?? "#1d4ed8",
          })),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          indexAxis: rows.length > 8 ? "y" : "x",
        },
      }),
    );
  });
  return box;
}

function section(title: string, data: unknown, id: string): HTMLElement {
  const tables = findTables(data, "");
  const out = h("section", { class: "panel wide", "aria-labelledby": id }, h("h2", { id }, title));
  if (tables.length === 0) {
    out.append(
      h("p", {}, "Nothing to show yet."),
      h("pre", { class: "raw", tabindex: 0 }, JSON.stringify(data, null, 2).slice(0, 4000)),
    );
    return out;
  }
  for (const t of tables.slice(0, 12)) {
    const name = t.name || title;
    const cols = [...new Set(t.rows.flatMap((r) => Object.keys(r)))].filter((k) =>
      t.rows.some((r) => r[k] === null || typeof r[k] !== "object"),
    );
    out.append(
      h("h3", {}, name),
      chartOf(name, t.rows) ?? "",
      table(
        name,
        cols,
        t.rows
          .slice(0, 200)
          .map((r) =>
            cols.map((c) =>
              c === "accountId" && typeof r[c] === "string"
                ? h("a", { href: `#/accounts/${encodeURIComponent(r[c] as string)}` }, r[c] as string)
                : show(r[c]),
            ),
          ),
      ),
    );
  }
  return out;
}

const SOURCES: [string, string][] = [
  ["Flows: instances per step, funnels, time in step, NPS", "/v1/admin/analytics/flows"],
  ["Stuck past SLA", "/v1/admin/analytics/stuck"],
  ["Experiments", "/v1/admin/analytics/experiments"],
  ["Rule suggestions", "/v1/admin/suggestions"],
];

/** The Flows page: analytics and suggestions as charts and tables. */
export function flowsPage(root: HTMLElement): void {
  for (const c of charts) c.destroy();
  charts = [];
  const out = h("div", {});
  fill(root, h("h1", { tabindex: -1 }, "Flows"), out);
  SOURCES.forEach(([title, path], i) => {
    const slot = h("div", { "aria-live": "polite" }, h("p", {}, `Loading ${title.toLowerCase()}…`));
    out.append(slot);
    api("GET", path)
      .then(({ data }) => fill(slot, section(title, data, `flows-${i}`)))
      .catch((e) =>
        fill(
          slot,
          h(
            "section",
            { class: "panel wide", "aria-labelledby": `flows-${i}` },
            h("h2", { id: `flows-${i}` }, title),
            h(
              "p",
              {},
              e instanceof Problem && e.status === 404 ? "Not available on this server yet." : describe(e),
            ),
          ),
        ),
      );
  });
}
