import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffLines } from "../../../console/src/diff.js";
import { contextAt, parsePath, rangeOfPath, type Segment } from "../../../console/src/json-path.js";
import { keySuggestions, schemaForFile, valueSuggestions } from "../../../console/src/schema.js";

/** Every path to a leaf or container inside a JSON value, in the validator's `$.a[0].b` notation. */
function pathsOf(v: unknown, prefix = "$", segs: Segment[] = []): { path: string; value: unknown }[] {
  const here = { path: prefix, value: v };
  if (Array.isArray(v)) return [here, ...v.flatMap((x, i) => pathsOf(x, `${prefix}[${i}]`, [...segs, i]))];
  if (v && typeof v === "object")
    return [
      here,
      ...Object.entries(v).flatMap(([k, x]) =>
        pathsOf(x, /^[A-Za-z_$][\w$-]*$/.test(k) ? `${prefix}.${k}` : `${prefix}[${JSON.stringify(k)}]`, [
          ...segs,
          k,
        ]),
      ),
    ];
  return [here];
}

describe("JSON paths in the console editor", () => {
  it("parses dotted, indexed and quoted segments", () => {
    expect(parsePath("$.rules[2].conditions.all[0].operator")).toEqual([
      "rules",
      2,
      "conditions",
      "all",
      0,
      "operator",
    ]);
    expect(parsePath('$.fx["a.b"]')).toEqual(["fx", "a.b"]);
    expect(parsePath("$")).toEqual([]);
  });

  it("points every path of any pretty-printed document at the text of exactly that value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value, null, 2);
        if (text === undefined) return;
        for (const { path, value: v } of pathsOf(JSON.parse(text))) {
          if (v !== null && typeof v === "object") continue;
          const r = rangeOfPath(text, path);
          expect(JSON.parse(text.slice(r.from, r.to))).toEqual(v);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("marks the object that lacks a key when the path's last key is missing", () => {
    const text = '{\n  "rules": [\n    { "name": "a" }\n  ]\n}';
    const r = rangeOfPath(text, "$.rules[0].priority");
    expect(text.slice(r.from, r.to)).toBe("{");
    expect(r.from).toBe(text.indexOf('{ "name"'));
  });
});

describe("schema-driven completion", () => {
  it("offers the condition keys a routing rule's condition lacks, and the operator names as values", () => {
    const text = '{ "rules": [ { "conditions": { "all": [ { "fact": "survey",  } ] } } ] }';
    const schema = schemaForFile("routing/40-survey.json");
    expect(schema).toBeDefined();
    const ctx = contextAt(text, text.indexOf(",  }") + 2);
    expect(ctx).toMatchObject({
      path: ["rules", 0, "conditions", "all", 0],
      inObject: true,
      present: ["fact"],
    });
    const keys = keySuggestions(schema!, ctx.path, ctx.present).map((s) => s.label);
    expect(keys).toEqual(expect.arrayContaining(["operator", "value", "path"]));
    expect(keys).not.toContain("fact");
    const ops = valueSuggestions(schema!, ctx.path, "operator").map((s) => s.label);
    expect(ops).toContain('"greaterThanInclusive"');
  });
});

describe("the version diff", () => {
  it("keeps every line of both sides, marking only the changed ones", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c")),
        fc.array(fc.constantFrom("a", "b", "c")),
        (a, b) => {
          const d = diffLines(a.join("\n"), b.join("\n"));
          expect(d.filter((l) => l.kind !== "added").map((l) => l.text)).toEqual(a.join("\n").split("\n"));
          expect(d.filter((l) => l.kind !== "removed").map((l) => l.text)).toEqual(b.join("\n").split("\n"));
        },
      ),
    );
  });
});
