import { readdir, readFile } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { err, ok, type Result } from "../core/result.js";
import type { RuleProblem } from "../core/ruleset/problems.js";
import type { RulesetDocument } from "../core/ruleset/validate.js";
import { validateRulesetDocument } from "./rules/load.js";

/** Reads every `*.json` under a RULES_DIR (not `schema/`) into `{ files }`, without top-level `$schema` keys. */
export async function readRulesDir(dir: string): Promise<Result<RulesetDocument, RuleProblem[]>> {
  let paths: string[];
  try {
    paths = await listJson(dir, dir);
  } catch (e) {
    return err([{ file: dir, path: "$", message: `cannot read the rules folder: ${(e as Error).message}` }]);
  }
  const files: Record<string, unknown> = {};
  const problems: RuleProblem[] = [];
  for (const file of paths.sort()) {
    let text: string;
    try {
      text = await readFile(join(dir, file), "utf8");
    } catch (e) {
      problems.push({ file, path: "$", message: `cannot read the file: ${(e as Error).message}` });
      continue;
    }
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      problems.push({
        file,
        path: `line ${parsed.error.line}:${parsed.error.column}`,
        message: parsed.error.message,
      });
      continue;
    }
    const value = parsed.value;
    if (value !== null && typeof value === "object" && !Array.isArray(value) && "$schema" in value) {
      const { $schema: _ignored, ...rest } = value as Record<string, unknown>;
      files[file] = rest;
    } else files[file] = value;
  }
  if (problems.length === 0) return ok({ files });
  // A file that cannot be parsed must not hide what is wrong elsewhere: the rest is validated
  // without it (its own problems are the syntax error already listed). Rule tests are left out:
  // their expectations name rules and flows the missing file may hold.
  const unreadable = new Set(problems.map((p) => p.file));
  const rest = validateRulesetDocument({ files }).problems.filter(
    (p) => !unreadable.has(p.file) && !p.file.startsWith("tests/"),
  );
  return err([...problems, ...rest]);
}

async function listJson(root: string, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    const rel = relative(root, full).split(sep).join("/");
    if (entry.isDirectory()) {
      if (rel === "schema" || entry.name.startsWith(".") || entry.name === "node_modules") continue;
      out.push(...(await listJson(root, full)));
    } else if (entry.isFile() && entry.name.endsWith(".json")) out.push(rel);
  }
  return out;
}

export interface JsonSyntaxError {
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** JSON.parse with the line:column of the first syntax error (V8's message does not always carry a position). */
export function parseJsonText(text: string): Result<unknown, JsonSyntaxError> {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return ok(JSON.parse(body));
  } catch (e) {
    const { offset, message } = locateSyntaxError(body) ?? { offset: 0, message: (e as Error).message };
    const before = body.slice(0, offset).split("\n");
    return err({ line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1, message });
  }
}

/** A small JSON scanner: the offset and a plain message for the first syntax error, or null if the text is valid. */
export function locateSyntaxError(text: string): { offset: number; message: string } | null {
  let i = 0;
  const fail = (message: string): never => {
    throw { offset: i, message };
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const describe = () => (i >= text.length ? "end of file" : `"${text[i]}"`);
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe()}`);
  };
  const string = () => {
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === "\\") {
        const n = text[i + 1];
        if (n === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (n !== undefined && '"\\/bfnrt'.includes(n)) i += 2;
        else fail("invalid escape in string");
      } else if (c.charCodeAt(0) < 0x20) fail("unescaped control character or line break in string");
      else i++;
    }
    fail("unterminated string");
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) fail(`unexpected ${describe()}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"')
          fail(
            text[i] === "}"
              ? "trailing comma before }"
              : `expected a "quoted" property name, found ${describe()}`,
          );
        string();
        ws();
        if (text[i] !== ":") fail(`expected ":" after the property name, found ${describe()}`);
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(`expected "," or "}" after a property value, found ${describe()}`);
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] === "]") fail("trailing comma before ]");
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(`expected "," or "]" after an array element, found ${describe()}`);
      }
    }
    if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) number();
    else fail(`unexpected ${describe()}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return null;
  } catch (e) {
    if (typeof e === "object" && e !== null && "offset" in e) return e as { offset: number; message: string };
    throw e;
  }
}
