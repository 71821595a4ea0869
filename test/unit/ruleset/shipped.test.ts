import { describe, expect, it } from "vitest";
import { loadRuleset, runRuleTests, validateRuleset } from "../../../src/core/ruleset/index.js";
import { OPTIONS, shippedDoc } from "./shipped-rules.js";

describe("the shipped rules", () => {
  it("are valid with no warnings", async () => {
    const { problems, warnings } = validateRuleset(await shippedDoc(), OPTIONS);
    expect(problems).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("have the high-touch and fast-track flows and at least 25 test cases", async () => {
    const loaded = await loadRuleset(await shippedDoc(), OPTIONS);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
    expect([...loaded.value.flows.keys()]).toEqual(expect.arrayContaining(["high-touch", "fast-track"]));
    expect(loaded.value.tests.flatMap((t) => t.data.cases).length).toBeGreaterThanOrEqual(25);
  });

  it("pass every case in rules/tests", async () => {
    const loaded = await loadRuleset(await shippedDoc(), OPTIONS);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
    const failed = (await runRuleTests(loaded.value)).filter((r) => !r.passed);
    expect(failed.map((r) => ({ name: r.name, expected: r.expected, actual: r.actual }))).toEqual([]);
  });

  it("hash the same whatever the key order and change with the content", async () => {
    const a = await loadRuleset(await shippedDoc(), OPTIONS);
    const reordered = await shippedDoc();
    const s = reordered.files["settings.json"];
    reordered.files["settings.json"] = Object.fromEntries(Object.entries(s).reverse());
    const b = await loadRuleset(reordered, OPTIONS);
    const changed = await shippedDoc();
    changed.files["settings.json"].currency = "EUR";
    const c = await loadRuleset(changed, OPTIONS);
    if (!a.ok || !b.ok || !c.ok) throw new Error("load failed");
    expect(a.value.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.value.hash).toBe(a.value.hash);
    expect(c.value.hash).not.toBe(a.value.hash);
  });

  it("order routing rules by priority, then file path, then position", async () => {
    const doc = await shippedDoc();
    doc.files["routing/00-extra.json"] = {
      rules: [
        {
          name: "tie-b",
          priority: 65,
          conditions: { all: [{ fact: "survey", path: "$.teamSize", operator: "equal", value: 7 }] },
          event: { type: "route", params: { flow: "fast-track" } },
        },
      ],
    };
    const loaded = await loadRuleset(doc, OPTIONS);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
    const names = loaded.value.routing.map((r) => r.name);
    expect(names.indexOf("tie-b")).toBe(names.indexOf("large-team") - 1);
    const priorities = loaded.value.routing.map((r) => r.priority);
    expect(priorities).toEqual([...priorities].sort((x, y) => y - x));
  });
});
