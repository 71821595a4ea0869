import { api, describe } from "./api.js";
import { fill, h, table, when } from "./dom.js";

interface Entry {
  at?: string;
  actor?: string;
  action?: string;
  version?: number;
  summary?: string;
}

/** The Audit page: who changed or read what, newest first, with paging. */
export function auditPage(root: HTMLElement): void {
  const out = h("div", { "aria-live": "polite" });
  const filter = h("input", { id: "audit-filter", type: "search", autocomplete: "off" });
  let entries: Entry[] = [];
  let nextOffset: number | null = 0;

  const render = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? entries.filter((e) => JSON.stringify(e).toLowerCase().includes(q)) : entries;
    fill(
      out,
      table(
        `Audit log (${shown.length} of ${entries.length} loaded)`,
        ["when", "who", "action", "version", "what"],
        shown.map((e) => [
          when(e.at),
          e.actor ?? "?",
          e.action ?? "?",
          e.version === undefined ? "—" : String(e.version),
          e.summary ?? "",
        ]),
      ),
      nextOffset !== null
        ? h("button", { type: "button", onclick: () => void more() }, "Load older entries")
        : null,
    );
  };
  const more = async () => {
    if (nextOffset === null) return;
    try {
      const { data } = await api<{ entries?: Entry[]; nextOffset?: number | null }>(
        "GET",
        `/v1/admin/audit?limit=100&offset=${nextOffset}`,
      );
      entries = [...entries, ...(data.entries ?? [])];
      nextOffset = data.nextOffset ?? null;
      render();
    } catch (e) {
      fill(out, h("p", { class: "error", role: "alert" }, describe(e)));
    }
  };
  filter.addEventListener("input", render);
  fill(
    root,
    h("h1", { tabindex: -1 }, "Audit log"),
    h("div", { class: "field inline" }, h("label", { for: "audit-filter" }, "Filter"), filter),
    out,
  );
  void more();
}
