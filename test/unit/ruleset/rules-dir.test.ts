import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { locateSyntaxError, parseJsonText, readRulesDir } from "../../../src/adapters/rules-dir.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-"));
  await mkdir(join(dir, "routing"));
  await mkdir(join(dir, "schema"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("readRulesDir", () => {
  it("reads every JSON file by relative path, skipping schema/ and other files, without $schema keys", async () => {
    await writeFile(
      join(dir, "settings.json"),
      '{ "$schema": "./schema/settings.schema.json", "currency": "USD" }',
    );
    await writeFile(join(dir, "routing", "a.json"), '{ "rules": [] }');
    await writeFile(join(dir, "schema", "flow.schema.json"), "{ not json");
    await writeFile(join(dir, "README.md"), "# hi");
    const r = await readRulesDir(dir);
    expect(r).toEqual({
      ok: true,
      value: { files: { "routing/a.json": { rules: [] }, "settings.json": { currency: "USD" } } },
    });
  });

  it("reports every JSON syntax error with its file and line:column", async () => {
    await writeFile(join(dir, "settings.json"), '{\n  "currency": "USD",\n}\n');
    await writeFile(join(dir, "routing", "a.json"), '{ "rules": [\n  { "name": tru }\n] }');
    const r = await readRulesDir(dir);
    if (r.ok) throw new Error("expected problems");
    expect(r.error.slice(0, 2)).toEqual([
      { file: "routing/a.json", path: "line 2:13", message: 'unexpected "t"' },
      { file: "settings.json", path: "line 3:1", message: "trailing comma before }" },
    ]);
  });

  it("still reports what is wrong in the other files when one cannot be parsed", async () => {
    await cp("rules", dir, { recursive: true });
    await writeFile(join(dir, "routing", "zz-broken.json"), '{ "rules": [ }');
    const settings = JSON.parse(await readFile(join(dir, "settings.json"), "utf8"));
    await writeFile(join(dir, "settings.json"), JSON.stringify({ ...settings, defaultFlow: "nada" }));
    const r = await readRulesDir(dir);
    if (r.ok) throw new Error("expected problems");
    expect(r.error.map((p) => [p.file, p.path])).toEqual([
      ["routing/zz-broken.json", "line 1:14"],
      ["settings.json", "$.defaultFlow"],
    ]);
  });

  it("reports a folder that cannot be read", async () => {
    const r = await readRulesDir(join(dir, "missing"));
    expect(r.ok).toBe(false);
  });
});

describe("locateSyntaxError", () => {
  it("finds nothing wrong in any JSON that JSON.stringify writes", () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => locateSyntaxError(JSON.stringify(v, null, 2)) === null));
  });

  it("points at the exact spot of common mistakes", () => {
    expect(parseJsonText('{"a": 1 "b": 2}')).toEqual({
      ok: false,
      error: { line: 1, column: 9, message: 'expected "," or "}" after a property value, found """' },
    });
    expect(parseJsonText("[1, 2")).toEqual({
      ok: false,
      error: { line: 1, column: 6, message: 'expected "," or "]" after an array element, found end of file' },
    });
    expect(parseJsonText("{ 'a': 1 }")).toMatchObject({ ok: false, error: { line: 1, column: 3 } });
  });
});
