import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_CONSOLE_DIR } from "../../src/http/routes/console.js";
import { CONSOLE_TOKENS, type ConsoleServer, startConsoleServer } from "./console-server.js";

/** The console's verdict on a valid edit: no problems, or only warnings (a tests/*.json case it breaks). */
const EDITS_VALID = /^(No problems: the edited ruleset is valid\.|Valid, with \d+ warnings?)$/;
const SHOTS = resolve(import.meta.dirname, "../../test-results/console");
const AXE = readFileSync(resolve(import.meta.dirname, "../../node_modules/axe-core/axe.min.js"), "utf8");
const ROUTING_FILE = "routing/40-survey.json";
const BAD_OPERATOR_PATH = "$.rules[0].conditions.all[0].operator";
const ANSWERS = {
  teamSize: 800,
  priorExperience: "some",
  goLiveTimeline: "within_quarter",
  supportStyle: "mixed",
};

let server: ConsoleServer;
let browser: Browser;
let page: Page;
const cspViolations: string[] = [];
const foreignRequests: string[] = [];

async function api(method: string, path: string, body?: unknown, token = CONSOLE_TOKENS.admin) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the test reads response bodies loosely and asserts on them
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const routeFlow = async (accountId: string) =>
  (await api("POST", "/v1/route", { accountId, survey: { answers: ANSWERS } }, CONSOLE_TOKENS.api)).body;

/** axe-core's serious and critical violations on the page as it is now. */
async function seriousViolations(): Promise<string[]> {
  // Evaluated through the DevTools protocol: the page's own CSP forbids injected scripts.
  await page.evaluate(`${AXE}\n;0`);
  const results = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")) as {
    violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
  };
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

async function snapshot(name: string) {
  await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  expect(await seriousViolations(), `axe on ${name}`).toEqual([]);
}

/** Replaces the whole text of the editor the way a user would: select all, then paste. */
async function replaceEditorText(text: string) {
  await page.locator(".cm-content").click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.locator(".cm-content").evaluate((el, t) => {
    const data = new DataTransfer();
    data.setData("text/plain", t);
    el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

beforeAll(async () => {
  if (!existsSync(resolve(DEFAULT_CONSOLE_DIR, "index.html")))
    throw new Error("dist/console is missing: run `npx vite build console` first");
  mkdirSync(SHOTS, { recursive: true });
  server = await startConsoleServer(inject("redisUrl"));
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-background-networking"],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(10_000);
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on("request", (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith("data:")) foreignRequests.push(r.url());
  });
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === "fail") {
    await page.screenshot({ path: `${SHOTS}/failure.png`, fullPage: true });
    console.log("FAILED AT", (await page.locator("main").textContent())?.slice(0, 3000));
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe("the ops console", () => {
  it("lets an admin break, fix, simulate, backtest, publish and roll back a rule, then trace an account", async () => {
    // A real decision made before the change, so the backtest has something to compare.
    const before = await routeFlow("e2e-before");
    const oldFlow: string = before.flow.id;
    const newFlow = oldFlow === "fast-track" ? "guided-start" : "fast-track";

    const res = await page.goto(`${server.url}/console`);
    expect(res?.headers()["content-security-policy"]).toContain("script-src 'self'");
    await page.getByLabel("Admin token").fill(CONSOLE_TOKENS.admin);
    await snapshot("login");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Active: version 1").waitFor();

    // Break a routing rule: a new top rule with an operator that does not exist.
    await page.locator(`button[data-file="${ROUTING_FILE}"]`).click();
    const shipped = JSON.parse(
      readFileSync(resolve(import.meta.dirname, "../../rules", ROUTING_FILE), "utf8"),
    );
    const withRule = (operator: string) => ({
      ...shipped,
      rules: [
        {
          name: "big-teams",
          priority: 1000,
          conditions: { all: [{ fact: "survey", path: "$.teamSize", operator, value: 500 }] },
          event: { type: "route", params: { flow: newFlow } },
        },
        ...shipped.rules,
      ],
    });
    await replaceEditorText(JSON.stringify(withRule("biggerThan"), null, 2));
    const problem = page.locator(`button[data-problem-path="${BAD_OPERATOR_PATH}"]`);
    await problem.waitFor();
    expect(await problem.textContent()).toContain(ROUTING_FILE);
    // Following the problem lands on the operator's value, where the inline mark sits.
    await problem.click();
    await expect.poll(() => page.locator(".cm-lintRange-error").first().textContent()).toBe('"biggerThan"');
    await snapshot("rules-error");

    // Fix it.
    await replaceEditorText(JSON.stringify(withRule("greaterThanInclusive"), null, 2));
    await page.getByText(EDITS_VALID).waitFor();

    // Simulate the survey with the edited rules.
    await page.locator("#q-teamSize").fill("800");
    await page.locator("#q-priorExperience").selectOption("some");
    await page.locator("#q-goLiveTimeline").selectOption("within_quarter");
    await page.locator("#q-supportStyle").selectOption("mixed");
    await page.getByRole("button", { name: "Simulate", exact: true }).click();
    const decision = page.getByTestId("sim-decision");
    await decision.locator(`[data-flow="${newFlow}"]`).waitFor();
    expect(await decision.textContent()).toContain("Rule: big-teams");
    const trace = page.locator(".sim-result .trace");
    expect(await trace.textContent()).toMatch(
      /✔ passed.*survey \$\.teamSize.*greaterThanInclusive.*500.*800/s,
    );
    await snapshot("rules-simulate");

    // Backtest: the earlier decision would now change.
    await page.getByRole("button", { name: "Run backtest" }).click();
    await page.getByText(/\d+ of \d+ recent decisions would get another flow/).waitFor();
    const backtest = await page.getByTestId("backtest").textContent();
    expect(backtest).toMatch(/[1-9]\d* of \d+ recent decisions would get another flow/);
    expect(backtest).toContain(newFlow);
    await snapshot("rules-backtest");

    // Publish; the route now answers with the new flow.
    await page.getByLabel("What changed and why").fill(`big teams go to ${newFlow}`);
    await page.getByRole("button", { name: "Publish edited rules" }).click();
    await page.getByText("Active: version 2").waitFor();
    await expect.poll(async () => (await routeFlow("e2e-after")).flow.id, { timeout: 5_000 }).toBe(newFlow);

    // Roll back to version 1 in one click.
    await page.locator('button[data-rollback="1"]').click();
    await page.getByText("Active: version 3").waitFor();
    expect((await api("GET", "/v1/admin/rules")).body.version).toBe(3);
    await expect
      .poll(async () => (await routeFlow("e2e-rolled-back")).flow.id, { timeout: 5_000 })
      .toBe(oldFlow);
    await page.getByRole("button", { name: "Diff v2" }).click();
    await page.getByText("Version 2 compared with version 1").waitFor();
    await snapshot("rules-versions");

    // The account routed under version 2 shows its decision trace.
    await page.getByRole("link", { name: "Accounts" }).click();
    await page.getByLabel("Account id").fill("e2e-after");
    await page.getByRole("button", { name: "Look up" }).click();
    await page.getByRole("heading", { name: "Account e2e-after" }).waitFor();
    const account = await page.locator("main").textContent();
    expect(account).toContain(`${newFlow} v`);
    expect(account).toMatch(/rule big-teams \(priority 1000\) matched/);
    expect(account).toContain("ruleset v2");
    await snapshot("accounts");

    await page.getByRole("link", { name: "Flows" }).click();
    await page.getByRole("heading", { name: "Rule suggestions" }).waitFor();
    await snapshot("flows");

    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByText(/Audit log \(\d+ of \d+ loaded\)/).waitFor();
    expect(await page.locator("main").textContent()).toContain("rollback");
    await snapshot("audit");

    expect(cspViolations).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it("explains a publish conflict with who changed what, keeps the edits, and publishes on top when asked", async () => {
    await page.goto(`${server.url}/console#/rules`);
    await page.getByText("Active: version 3").waitFor();
    // Someone else publishes while this page is open.
    const current = (await api("GET", "/v1/admin/rules")).body;
    const theirs = await fetch(`${server.url}/v1/admin/rules`, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${CONSOLE_TOKENS.admin}`,
        "content-type": "application/json",
        "if-match": '"3"',
        "x-actor": "sam",
      },
      body: JSON.stringify({ ruleset: current.ruleset, message: "sam's change" }),
    });
    expect(theirs.status).toBe(200);

    await page.locator('button[data-file="settings.json"]').click();
    const settings = JSON.parse(
      readFileSync(resolve(import.meta.dirname, "../../rules/settings.json"), "utf8"),
    );
    await replaceEditorText(JSON.stringify({ ...settings, defaultFlow: "guided-start" }, null, 2));
    await page.getByText(EDITS_VALID).waitFor();
    await page.getByLabel("What changed and why").fill("default to guided start");
    await page.getByRole("button", { name: "Publish edited rules" }).click();
    const alert = page.locator(".conflict");
    await alert.waitFor();
    const text = await alert.textContent();
    expect(text).toContain("You started from version 3, but version 4 is now active");
    expect(text).toContain("sam's change");
    expect(text).toContain('"defaultFlow": "guided-start"');
    await snapshot("rules-conflict");
    expect((await api("GET", "/v1/admin/rules")).body.version).toBe(4);

    await page.getByRole("button", { name: /publish my edits over version 4/ }).click();
    await page.getByText("Active: version 5").waitFor();
    const now = (await api("GET", "/v1/admin/rules")).body;
    expect(now.ruleset.files["settings.json"].defaultFlow).toBe("guided-start");
  });

  it("stays readable and accessible at 390 px wide", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${server.url}/console#/rules`);
    await page.getByText("Active: version 5").waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snapshot("rules-390");
    await page.goto(`${server.url}/console#/accounts/e2e-after`);
    await page.getByRole("heading", { name: "Account e2e-after" }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await snapshot("accounts-390");
  });

  it("serves the page and its assets with the strict CSP, and nothing outside the build folder", async () => {
    const html = await fetch(`${server.url}/console`);
    expect(html.headers.get("content-security-policy")).toBe(
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(await html.text())?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${server.url}${script}`, { headers: { "accept-encoding": "gzip" } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    for (const bad of [
      "/console/assets/..%2F..%2Fpackage.json",
      "/console/assets/.env",
      "/console/assets/nope.js",
    ])
      expect((await fetch(`${server.url}${bad}`)).status).toBe(404);
    // Data stays behind the admin token even though the page is public.
    expect((await fetch(`${server.url}/v1/admin/accounts/e2e-after`)).status).toBe(401);
    expect((await api("GET", "/v1/admin/accounts/e2e-after", undefined, CONSOLE_TOKENS.api)).status).toBe(
      403,
    );
    expect((await api("GET", "/v1/admin/accounts/nobody-here")).status).toBe(404);
    const account = (await api("GET", "/v1/admin/accounts/e2e-after")).body;
    expect(account.instances[0].decisionId).toBe(account.decisions[0].decisionId);
  });
});
