import type { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { api, describe, Problem, type ProblemItem } from "./api.js";
import { pretty } from "./diff.js";
import { fill, h, table, toast, when } from "./dom.js";
import { type FileProblem, fileState, relint, revealPath } from "./editor.js";
import { takeCandidate } from "./flows-handover.js";
import { simulatePanel } from "./simulate.js";
import { renderRulesetDiff, versionsPanel } from "./versions.js";

interface ActiveRules {
  version: number;
  hash?: string;
  publishedAt?: string;
  author?: string;
  message?: string;
  ruleset?: { files?: Record<string, unknown> };
}

interface Backtest {
  compared?: number;
  changed?: number;
  matrix?: Record<string, number>;
  examples?: {
    decisionId?: string;
    accountId?: string;
    userId?: string;
    at?: string;
    from?: string;
    to?: string;
    fromRule?: string | null;
    toRule?: string | null;
  }[];
}

/** The Rules page: file tree, editor with inline problems, simulate, backtest, publish, versions. */
export async function rulesPage(root: HTMLElement): Promise<void> {
  let active: ActiveRules | undefined;
  const base = new Map<string, string>();
  const buffers = new Map<string, string>();
  const states = new Map<string, EditorState>();
  let problems = new Map<string, FileProblem[]>();
  let selected = "";
  let validateTimer: ReturnType<typeof setTimeout> | undefined;
  let validation = 0;

  const header = h("div", { class: "active-version", "aria-live": "polite" });
  const tree = h("nav", { class: "tree", "aria-label": "Ruleset files" });
  const editorHost = h("div", { class: "editor", "data-testid": "editor" });
  const editorTitle = h("h2", { id: "editor-h" }, "File");
  const problemList = h("div", {
    class: "problem-list",
    role: "region",
    "aria-label": "Problems",
    "aria-live": "polite",
  });
  const view = new EditorView({ parent: editorHost });
  // axe wants scrollable regions reachable by keyboard; the editable content inside does not count.
  view.scrollDOM.tabIndex = 0;

  const problemSource = (file: string) => problems.get(file) ?? [];

  /** The edited ruleset, or undefined while a file is not valid JSON. */
  const candidate = (): { files: Record<string, unknown> } | undefined => {
    const files: Record<string, unknown> = {};
    for (const [f, text] of buffers) {
      try {
        files[f] = JSON.parse(text);
      } catch {
        return undefined;
      }
    }
    return { files };
  };
  const dirtyFiles = () => [...buffers].filter(([f, t]) => base.get(f) !== t).map(([f]) => f);
  const parsedFile = (f: string): unknown => {
    try {
      return JSON.parse(buffers.get(f) ?? "");
    } catch {
      return active?.ruleset?.files?.[f];
    }
  };

  const renderTree = () => {
    const dirty = new Set(dirtyFiles());
    const byFolder = new Map<string, string[]>();
    for (const f of [...buffers.keys()].sort()) {
      const folder = f.includes("/") ? f.slice(0, f.lastIndexOf("/")) : "";
      byFolder.set(folder, [...(byFolder.get(folder) ?? []), f]);
    }
    fill(
      tree,
      h(
        "ul",
        {},
        ...[...byFolder].map(([folder, files]) =>
          h(
            "li",
            {},
            folder ? h("span", { class: "folder" }, `${folder}/`) : null,
            h(
              "ul",
              {},
              ...files.map((f) => {
                const count = problems.get(f)?.filter((p) => p.severity === "error").length ?? 0;
                return h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: "file",
                      "data-file": f,
                      "aria-current": f === selected ? "true" : undefined,
                      onclick: () => select(f),
                    },
                    folder ? f.slice(folder.length + 1) : f,
                    dirty.has(f) ? h("span", { class: "badge" }, " edited") : null,
                    count
                      ? h("span", { class: "badge error" }, ` ${count} error${count > 1 ? "s" : ""}`)
                      : null,
                  ),
                );
              }),
            ),
          ),
        ),
      ),
    );
  };

  const renderProblems = (general: ProblemItem[] = []) => {
    const all = [...problems].flatMap(([file, ps]) => ps.map((p) => ({ file, ...p })));
    if (all.length === 0 && general.length === 0) {
      fill(problemList, h("p", { class: "ok" }, "No problems: the edited ruleset is valid."));
      return;
    }
    // Warnings only (say, a tests/*.json case the edit breaks): still publishable, so say so.
    const errors = general.length + all.filter((p) => p.severity !== "warning").length;
    fill(
      problemList,
      h(
        "h3",
        {},
        errors === 0
          ? `Valid, with ${all.length} warning${all.length > 1 ? "s" : ""}`
          : `Problems (${all.length + general.length})`,
      ),
      h(
        "ul",
        { class: "problems" },
        ...general.map((g) => h("li", { class: "error" }, g.message)),
        ...all.map((p) =>
          h(
            "li",
            { class: p.severity },
            h(
              "button",
              {
                type: "button",
                class: "link",
                "data-problem-path": p.path,
                onclick: () => {
                  select(p.file);
                  revealPath(view, p.path);
                },
              },
              `${p.severity === "error" ? "Error" : "Warning"} in ${p.file} at ${p.path}: ${p.message}`,
            ),
          ),
        ),
      ),
    );
  };

  const validate = async () => {
    const run = ++validation;
    const doc = candidate();
    if (!doc) {
      problems = new Map();
      renderProblems([{ message: "A file is not valid JSON; its syntax error is marked in the editor." }]);
      renderTree();
      return;
    }
    const next = new Map<string, FileProblem[]>();
    const add = (items: ProblemItem[], severity: FileProblem["severity"]) => {
      for (const i of items) {
        const file = i.file ?? "";
        next.set(file, [...(next.get(file) ?? []), { path: i.path ?? "$", message: i.message, severity }]);
      }
    };
    try {
      const { data } = await api<{ warnings?: ProblemItem[] }>("POST", "/v1/admin/rules/validate", {
        ruleset: doc,
      });
      add(data.warnings ?? [], "warning");
    } catch (e) {
      if (e instanceof Problem && e.status === 422) add(e.errors, "error");
      else {
        renderProblems([{ message: `Could not validate: ${describe(e)}` }]);
        return;
      }
    }
    if (run !== validation) return;
    problems = next;
    renderTree();
    renderProblems();
    relint(view);
  };

  const scheduleValidate = () => {
    clearTimeout(validateTimer);
    validateTimer = setTimeout(() => void validate(), 600);
  };

  const select = (file: string) => {
    if (selected) states.set(selected, view.state);
    selected = file;
    const text = buffers.get(file) ?? "";
    let state = states.get(file);
    if (!state || state.doc.toString() !== text) {
      state = fileState(file, text, problemSource, () => {
        buffers.set(file, view.state.doc.toString());
        renderTree();
        scheduleValidate();
      });
    }
    view.setState(state);
    editorTitle.textContent = `${file}${base.get(file) !== text ? " (edited)" : ""}`;
    renderTree();
  };

  const load = async () => {
    const { data } = await api<ActiveRules>("GET", "/v1/admin/rules");
    active = data;
    base.clear();
    buffers.clear();
    states.clear();
    for (const [f, v] of Object.entries(data.ruleset?.files ?? {})) {
      base.set(f, pretty(v));
      buffers.set(f, pretty(v));
    }
    // A suggestion opened from the Flows page arrives as unsaved edits: simulate, backtest, publish.
    const cand = takeCandidate();
    if (cand) {
      for (const [f, v] of Object.entries(cand.ruleset.files)) buffers.set(f, pretty(v));
      toast(`Loaded ${cand.label} as unsaved edits: simulate, backtest, then publish`);
    }
    fill(
      header,
      h("strong", {}, `Active: version ${data.version}`),
      ` · published ${when(data.publishedAt)} by ${data.author ?? "?"}`,
      data.message ? ` · “${data.message}”` : "",
    );
    const first =
      [...buffers.keys()].sort().find((f) => f.startsWith("routing/")) ?? [...buffers.keys()][0] ?? "";
    selected = "";
    select(buffers.has(selected) ? selected : first);
    problems = new Map();
    renderProblems();
    if (cand) scheduleValidate();
    sim.refresh();
    await versions.load(data.version);
  };

  // --- backtest ---
  const backtestOut = h("div", { "aria-live": "polite", "data-testid": "backtest" });
  const runBacktest = async () => {
    const doc = candidate();
    if (!doc) {
      fill(backtestOut, h("p", { class: "error", role: "alert" }, "Fix the JSON syntax errors first."));
      return;
    }
    fill(backtestOut, h("p", {}, "Re-deciding recent decisions with the edited rules…"));
    try {
      const { data } = await api<Backtest>("POST", "/v1/admin/rules/backtest", { ruleset: doc, limit: 1000 });
      const matrix = Object.entries(data.matrix ?? {}).sort((a, b) => b[1] - a[1]);
      fill(
        backtestOut,
        h(
          "p",
          { class: "big" },
          `${data.changed ?? 0} of ${data.compared ?? 0} recent decisions would get another flow.`,
        ),
        matrix.length
          ? table(
              "Flows before → after",
              ["from", "to", "decisions"],
              matrix.map(([k, n]) => {
                const [from, to] = k.split("→");
                return [from ?? k, from === to ? `${to} (unchanged)` : h("strong", {}, to ?? ""), String(n)];
              }),
            )
          : null,
        (data.examples ?? []).length
          ? table(
              "Examples of changed decisions",
              ["account", "user", "decided", "from", "to"],
              (data.examples ?? []).map((x) => [
                x.accountId ?? "?",
                x.userId ?? "—",
                when(x.at),
                `${x.from ?? "?"} (${x.fromRule ?? "default"})`,
                `${x.to ?? "?"} (${x.toRule ?? "default"})`,
              ]),
            )
          : null,
      );
    } catch (e) {
      fill(backtestOut, h("p", { class: "error", role: "alert" }, describe(e)));
    }
  };

  // --- publish ---
  const publishOut = h("div", { "aria-live": "polite", "data-testid": "publish-result" });
  const message = h("input", { id: "publish-message", type: "text", required: true, autocomplete: "off" });
  const publish = async (baseVersion: number) => {
    const doc = candidate();
    if (!doc) {
      fill(publishOut, h("p", { class: "error", role: "alert" }, "Fix the JSON syntax errors first."));
      return;
    }
    if (!message.value.trim()) {
      fill(
        publishOut,
        h("p", { class: "error", role: "alert" }, "Say what you changed and why (the message)."),
      );
      message.focus();
      return;
    }
    try {
      const { data } = await api<{ version: number }>(
        "PUT",
        "/v1/admin/rules",
        { ruleset: doc, message: message.value.trim() },
        { "if-match": `"${baseVersion}"` },
      );
      message.value = "";
      toast(`Published version ${data.version}`);
      fill(publishOut, h("p", { class: "ok" }, `Published version ${data.version}.`));
      await load();
    } catch (e) {
      if (e instanceof Problem && e.status === 409) return conflict(baseVersion, doc);
      if (e instanceof Problem && e.status === 422) {
        await validate();
        fill(
          publishOut,
          h("p", { class: "error", role: "alert" }, "Not published: the ruleset is invalid (see Problems)."),
        );
        return;
      }
      fill(publishOut, h("p", { class: "error", role: "alert" }, `Not published: ${describe(e)}`));
    }
  };

  /** Someone published since this page loaded: say who and what, keep the edits, let the user choose. */
  const conflict = async (baseVersion: number, mine: { files: Record<string, unknown> }) => {
    let latest: ActiveRules | undefined;
    try {
      latest = (await api<ActiveRules>("GET", "/v1/admin/rules")).data;
    } catch {
      latest = undefined;
    }
    const theirs = latest?.ruleset?.files ?? {};
    const box = h(
      "div",
      { class: "conflict", role: "alert" },
      h("h3", {}, "Not published: the rules changed while you were editing"),
      h(
        "p",
        {},
        `You started from version ${baseVersion}, but version ${latest?.version ?? "?"} is now active` +
          (latest
            ? ` (published ${when(latest.publishedAt)} by ${latest.author ?? "?"}: “${latest.message ?? ""}”)`
            : "") +
          ". Publishing now would silently undo their change, so nothing was published. Your edits are still in the editor.",
      ),
      h(
        "div",
        { class: "actions" },
        latest
          ? h(
              "button",
              { type: "button", onclick: () => void publish(latest.version) },
              `I reviewed the differences: publish my edits over version ${latest.version}`,
            )
          : null,
        h(
          "button",
          { type: "button", class: "danger", onclick: () => void load() },
          "Discard my edits and load the latest",
        ),
      ),
      latest
        ? renderRulesetDiff(theirs, mine.files, `Your edits compared with version ${latest.version}`)
        : null,
    );
    fill(publishOut, box);
  };

  const sim = simulatePanel(
    () => parsedFile("survey.json"),
    () => candidate(),
  );
  const versions = versionsPanel(load);

  fill(
    root,
    h("h1", { tabindex: -1 }, "Routing rules"),
    header,
    h(
      "div",
      { class: "rules-layout" },
      tree,
      h(
        "section",
        { class: "editor-pane", "aria-labelledby": "editor-h" },
        editorTitle,
        h(
          "p",
          { class: "hint" },
          "Ctrl-Space suggests keys and values from the schema. Problems are checked as you type.",
        ),
        editorHost,
        problemList,
      ),
    ),
    h(
      "div",
      { class: "panels" },
      sim.element,
      h(
        "div",
        {},
        h(
          "section",
          { class: "panel", "aria-labelledby": "bt-h" },
          h("h2", { id: "bt-h" }, "Backtest"),
          h("p", {}, "Re-decide recent real decisions with the edited rules, before publishing."),
          h(
            "button",
            { type: "button", id: "run-backtest", onclick: () => void runBacktest() },
            "Run backtest",
          ),
          backtestOut,
        ),
        h(
          "section",
          { class: "panel", "aria-labelledby": "pub-h" },
          h("h2", { id: "pub-h" }, "Publish"),
          h(
            "form",
            {
              onsubmit: (e: Event) => {
                e.preventDefault();
                void publish(active?.version ?? 0);
              },
            },
            h(
              "div",
              { class: "field" },
              h("label", { for: "publish-message" }, "What changed and why"),
              message,
            ),
            h("button", { type: "submit", class: "primary" }, "Publish edited rules"),
          ),
          publishOut,
        ),
      ),
    ),
    versions.element,
  );
  try {
    await load();
  } catch (e) {
    fill(header, h("p", { class: "error", role: "alert" }, describe(e)));
  }
}
