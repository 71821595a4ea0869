import { accountsPage } from "./accounts-page.js";
import { api, describe, token, whenUnauthorized } from "./api.js";
import { auditPage } from "./audit-page.js";
import { fill, h } from "./dom.js";

const main = document.getElementById("main") as HTMLElement;
const nav = document.getElementById("nav") as HTMLElement;
const logout = document.getElementById("logout") as HTMLButtonElement;

/** Asks for the admin token once per browser session; it is checked against the API before use. */
function login(reason?: string): void {
  nav.hidden = true;
  logout.hidden = true;
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const out = h("p", { "aria-live": "polite", class: "error" }, reason ?? "");
  fill(
    main,
    h("h1", { tabindex: -1 }, "Sign in to the ops console"),
    h(
      "form",
      {
        class: "login panel",
        onsubmit: async (e: Event) => {
          e.preventDefault();
          token.set(input.value.trim());
          try {
            await api("GET", "/v1/admin/audit?limit=1");
            route();
          } catch (err) {
            token.clear();
            out.textContent = `That token was not accepted: ${describe(err)}`;
            input.focus();
          }
        },
      },
      h("label", { for: "token" }, "Admin token (ROUTER_ADMIN_TOKEN)"),
      input,
      h("p", { class: "hint" }, "Kept in this tab's session storage only; closing the tab forgets it."),
      h("button", { type: "submit", class: "primary" }, "Sign in"),
      out,
    ),
  );
  input.focus();
}

function route(): void {
  if (!token.get()) {
    login();
    return;
  }
  nav.hidden = false;
  logout.hidden = false;
  const [page = "rules", arg] = location.hash.replace(/^#\/?/, "").split("/");
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.page === page) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const titles: Record<string, string> = {
    rules: "Rules",
    accounts: "Accounts",
    flows: "Flows",
    audit: "Audit",
  };
  document.title = `${titles[page] ?? "Rules"} · onboarding router console`;
  const focusHeading = () => (main.querySelector("h1") as HTMLElement | null)?.focus();
  // The editor (CodeMirror) and the charts (chart.js) are most of the bundle: load them with
  // their page, so signing in and the other pages stay light.
  if (page === "accounts") accountsPage(main, arg ? decodeURIComponent(arg) : undefined);
  else if (page === "audit") auditPage(main);
  else if (page === "flows")
    void import("./flows-page.js").then((m) => {
      m.flowsPage(main);
      focusHeading();
    });
  else
    void import("./rules-page.js").then((m) => {
      void m.rulesPage(main);
      focusHeading();
    });
  // Move focus to the new page's heading so keyboard and screen-reader users land on it.
  focusHeading();
}

whenUnauthorized(() => {
  token.clear();
  login("Your session's token was refused; enter it again.");
});
logout.addEventListener("click", () => {
  token.clear();
  login();
});
window.addEventListener("hashchange", (e) => {
  // Only "#/page" hashes are routes; "#main" is the skip link's target.
  if (new URL(e.newURL).hash.startsWith("#/")) route();
});
route();
