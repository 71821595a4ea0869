import { api, describe } from "./api.js";
import { fill, h, show, table, toast, when } from "./dom.js";
import { renderTrace } from "./trace.js";

interface Instance {
  instanceId: string;
  userId?: string;
  decisionId?: string;
  flow?: { id?: string; version?: number };
  status?: string;
  error?: string;
  currentStep?: { id?: string; type?: string; status?: string; enteredAt?: string; dueAt?: string } | null;
  history?: { at?: string; type?: string; stepId?: string; detail?: Record<string, unknown> }[];
}
interface Account {
  accountId: string;
  handover?: { handoverId?: string; receivedAt?: string; account?: Record<string, unknown>; gaps?: string[] };
  instances?: Instance[];
  decisions?: Record<string, unknown>[];
}

const overdue = (dueAt: string | undefined) => dueAt !== undefined && new Date(dueAt).getTime() < Date.now();

function handoverView(a: Account): HTMLElement {
  const ho = a.handover;
  if (!ho) return h("p", {}, "No handover received from sales yet.");
  const gaps = ho.gaps ?? [];
  return h(
    "div",
    {},
    h("p", {}, `Received ${when(ho.receivedAt)}${ho.handoverId ? ` (${ho.handoverId})` : ""}`),
    h(
      "dl",
      { class: "facts" },
      ...Object.entries(ho.account ?? {}).flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, show(v))]),
    ),
    gaps.length
      ? h(
          "div",
          { class: "gaps", role: "note" },
          h("strong", {}, `${gaps.length} gap${gaps.length > 1 ? "s" : ""} in the handover: `),
          h("ul", {}, ...gaps.map((g) => h("li", {}, g))),
        )
      : h("p", { class: "ok" }, "No gaps flagged in the handover."),
  );
}

/** The Accounts page: look up an account, see handover, instances, timeline and decision traces; retry or cancel. */
export function accountsPage(root: HTMLElement, accountId: string | undefined): void {
  const input = h("input", {
    id: "account-id",
    type: "search",
    value: accountId ?? "",
    autocomplete: "off",
    required: true,
  });
  const out = h("div", { "aria-live": "polite" });

  const command = async (a: Account, i: Instance, kind: "retry" | "cancel", b: HTMLButtonElement) => {
    b.disabled = true;
    try {
      const { data } = await api<{ status?: string }>(
        "POST",
        `/v1/admin/accounts/${encodeURIComponent(a.accountId)}/instances/${encodeURIComponent(i.instanceId)}/${kind}`,
      );
      toast(`${kind === "retry" ? "Retried" : "Cancelled"} ${i.instanceId}: now ${data.status ?? "?"}`);
      await lookup(a.accountId);
    } catch (e) {
      toast(`${kind} failed: ${describe(e)}`);
      b.disabled = false;
    }
  };

  const instanceView = (a: Account, i: Instance) => {
    const step = i.currentStep;
    const decision = (a.decisions ?? []).find((d) => d.decisionId === i.decisionId);
    const late = overdue(step?.dueAt);
    return h(
      "article",
      { class: "instance", "aria-labelledby": `inst-${i.instanceId}` },
      h(
        "h3",
        { id: `inst-${i.instanceId}` },
        `${i.flow?.id ?? "?"} v${i.flow?.version ?? "?"}`,
        h("span", { class: `status ${i.status ?? ""}` }, ` ${i.status ?? "?"}`),
      ),
      h("p", {}, `Instance ${i.instanceId}${i.userId ? ` · user ${i.userId}` : " · account-level"}`),
      step
        ? h(
            "p",
            { class: late ? "late" : "" },
            `Current step: ${step.id} (${step.type}, ${step.status}) since ${when(step.enteredAt)}`,
            step.dueAt ? ` · due ${when(step.dueAt)}${late ? " — past its SLA" : ""}` : "",
          )
        : h("p", {}, "No current step."),
      i.error ? h("p", { class: "error" }, `Failed: ${i.error}`) : null,
      h(
        "div",
        { class: "actions" },
        i.status === "failed"
          ? h(
              "button",
              {
                type: "button",
                class: "primary",
                onclick: (e: Event) => void command(a, i, "retry", e.currentTarget as HTMLButtonElement),
              },
              "Retry the failed step",
            )
          : null,
        i.status === "active"
          ? h(
              "button",
              {
                type: "button",
                class: "danger",
                onclick: (e: Event) => void command(a, i, "cancel", e.currentTarget as HTMLButtonElement),
              },
              "Cancel this instance",
            )
          : null,
      ),
      h(
        "details",
        {},
        h("summary", {}, `Timeline (${(i.history ?? []).length} events)`),
        h(
          "ol",
          { class: "timeline" },
          ...(i.history ?? []).map((e) =>
            h(
              "li",
              {},
              h("time", {}, when(e.at)),
              ` ${e.type ?? "?"}`,
              e.stepId ? ` · ${e.stepId}` : "",
              e.detail ? h("code", {}, ` ${show(e.detail)}`) : null,
            ),
          ),
        ),
      ),
      decision
        ? renderTrace(
            decision,
            `Decision ${String(decision.decisionId)} (ruleset v${String((decision.ruleset as { version?: number } | undefined)?.version ?? "?")})`,
          )
        : i.decisionId
          ? h("p", {}, `Decision ${i.decisionId} (record expired or erased)`)
          : null,
    );
  };

  const lookup = async (id: string) => {
    fill(out, h("p", {}, `Looking up ${id}…`));
    try {
      const { data } = await api<Account>("GET", `/v1/admin/accounts/${encodeURIComponent(id)}`);
      const instances = data.instances ?? [];
      const others = (data.decisions ?? []).filter(
        (d) => !instances.some((i) => i.decisionId === d.decisionId),
      );
      fill(
        out,
        h("h2", {}, `Account ${data.accountId}`),
        h(
          "section",
          { "aria-labelledby": "ho-h", class: "panel" },
          h("h3", { id: "ho-h" }, "Handover"),
          handoverView(data),
        ),
        h(
          "section",
          { "aria-labelledby": "inst-h" },
          h("h3", { id: "inst-h" }, `Flow instances (${instances.length})`),
          ...instances.map((i) => instanceView(data, i)),
        ),
        others.length
          ? h(
              "section",
              { "aria-labelledby": "older-h" },
              h("h3", { id: "older-h" }, "Earlier decisions"),
              table(
                "Earlier decisions",
                ["decided", "flow", "ruleset", "decision"],
                others.map((d) => [
                  when(d.at),
                  show((d.flow as { id?: string } | undefined)?.id ?? d.flow),
                  show((d.ruleset as { version?: number } | undefined)?.version),
                  show(d.decisionId),
                ]),
              ),
            )
          : null,
      );
    } catch (e) {
      fill(out, h("p", { class: "error", role: "alert" }, describe(e)));
    }
  };

  fill(
    root,
    h("h1", { tabindex: -1 }, "Accounts"),
    h(
      "form",
      {
        class: "inline",
        role: "search",
        onsubmit: (e: Event) => {
          e.preventDefault();
          const id = input.value.trim();
          if (!id) return;
          history.replaceState(null, "", `#/accounts/${encodeURIComponent(id)}`);
          void lookup(id);
        },
      },
      h("label", { for: "account-id" }, "Account id"),
      input,
      h("button", { type: "submit", class: "primary" }, "Look up"),
    ),
    out,
  );
  if (accountId) void lookup(accountId);
}
