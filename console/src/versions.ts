import { api, describe } from "./api.js";
import { diffLines, hunks, pretty } from "./diff.js";
import { fill, h, table, toast, when } from "./dom.js";

interface VersionMeta {
  version: number;
  publishedAt?: string;
  author?: string;
  message?: string;
  source?: string;
}
interface StoredVersion extends VersionMeta {
  ruleset?: { files?: Record<string, unknown> };
}

/** A readable diff of two rulesets: one block per changed file, changed lines with context. */
export function renderRulesetDiff(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  title: string,
): HTMLElement {
  const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const out = h("section", { class: "diff", "aria-label": title }, h("h3", {}, title));
  let changed = 0;
  for (const f of files) {
    const a = f in before ? pretty(before[f]) : "";
    const b = f in after ? pretty(after[f]) : "";
    if (a === b) continue;
    changed++;
    const status = !(f in before) ? "added" : !(f in after) ? "removed" : "changed";
    const pre = h("pre", { class: "diff-body", tabindex: 0, "aria-label": `Changes in ${f}` });
    for (const l of hunks(diffLines(a, b))) {
      if (l === "gap") pre.append(h("span", { class: "gap" }, "  …\n"));
      else
        pre.append(
          h(
            "span",
            { class: l.kind },
            `${l.kind === "added" ? "+ " : l.kind === "removed" ? "- " : "  "}${l.text}\n`,
          ),
        );
    }
    out.append(h("h4", {}, `${f} (${status})`), pre);
  }
  if (changed === 0) out.append(h("p", {}, "No file changed."));
  return out;
}

/** Published versions with a diff against the previous one and one-click rollback. */
export function versionsPanel(onChanged: () => Promise<void>) {
  const section = h(
    "section",
    { class: "panel wide", "aria-labelledby": "versions-h" },
    h("h2", { id: "versions-h" }, "Versions"),
  );
  const list = h("div", {});
  const detail = h("div", { "aria-live": "polite" });
  section.append(list, detail);
  let active = 0;

  const showDiff = async (v: number) => {
    fill(detail, h("p", {}, `Loading version ${v}…`));
    try {
      const after = (await api<StoredVersion>("GET", `/v1/admin/rules/versions/${v}`)).data;
      const before =
        v > 1
          ? (await api<StoredVersion>("GET", `/v1/admin/rules/versions/${v - 1}`).catch(() => undefined))
              ?.data
          : undefined;
      fill(
        detail,
        renderRulesetDiff(
          before?.ruleset?.files ?? {},
          after.ruleset?.files ?? {},
          `Version ${v} compared with ${before ? `version ${v - 1}` : "nothing"}`,
        ),
      );
    } catch (e) {
      fill(detail, h("p", { class: "error", role: "alert" }, describe(e)));
    }
  };

  const rollback = async (v: number, button: HTMLButtonElement) => {
    button.disabled = true;
    try {
      const { data } = await api<{ version: number }>("POST", "/v1/admin/rules/rollback", { version: v });
      toast(`Rolled back: version ${data.version} now equals version ${v}`);
      await onChanged();
    } catch (e) {
      fill(detail, h("p", { class: "error", role: "alert" }, `Rollback failed: ${describe(e)}`));
      button.disabled = false;
    }
  };

  const load = async (activeVersion: number) => {
    active = activeVersion;
    try {
      const { data } = await api<{ versions?: VersionMeta[] }>("GET", "/v1/admin/rules/versions?limit=20");
      const versions = data.versions ?? [];
      fill(
        list,
        table(
          "Published ruleset versions, newest first",
          ["version", "published", "by", "message", "actions"],
          versions.map((v) => [
            `${v.version}${v.version === active ? " (active)" : ""}`,
            when(v.publishedAt),
            v.author ?? "—",
            `${v.message ?? ""}${v.source && v.source !== "api" ? ` [${v.source}]` : ""}`,
            h(
              "span",
              { class: "actions" },
              h("button", { type: "button", onclick: () => void showDiff(v.version) }, `Diff v${v.version}`),
              v.version === active
                ? null
                : h(
                    "button",
                    {
                      type: "button",
                      class: "danger",
                      "data-rollback": v.version,
                      onclick: (e: Event) => void rollback(v.version, e.currentTarget as HTMLButtonElement),
                    },
                    `Roll back to v${v.version}`,
                  ),
            ),
          ]),
        ),
      );
    } catch (e) {
      fill(list, h("p", { class: "error", role: "alert" }, describe(e)));
    }
  };
  return { element: section, load };
}
