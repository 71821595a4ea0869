import type { z } from "zod";
import type { RoutingRule } from "../decision/types.js";
import { nextOf } from "../flow/transition.js";
import { canonicalHandoverSchema } from "../handover/schema.js";
import { buildAnswersSchema } from "../survey.js";
import { checkConditions } from "./check-conditions.js";
import { factShapes } from "./fact-shapes.js";
import { issuesToProblems, jsonPath, type RuleProblem } from "./problems.js";
import { byPrecedence, findShadowedRules } from "./reachability.js";
import {
  type FlowDefinition,
  FlowSchema,
  type RoutingFile,
  RoutingFileSchema,
  RoutingRuleSchema,
  type Settings,
  SettingsSchema,
  type SurveyDefinition,
  SurveySchema,
  type TestsFile,
  TestsFileSchema,
} from "./schemas.js";

/** A ruleset as stored and published: every rule file by its path relative to RULES_DIR. */
export interface RulesetDocument {
  readonly files: Readonly<Record<string, unknown>>;
}

export interface ValidateOptions {
  /** Schemas for further file kinds by path prefix, e.g. `{ "handover-mappings/": MappingSchema }`. */
  readonly extraSchemas?: Readonly<Record<string, z.ZodType>>;
}

/** What validation learnt, typed, for the loader. */
export interface RulesetAnalysis {
  readonly problems: RuleProblem[];
  readonly warnings: RuleProblem[];
  readonly files: Record<string, unknown>;
  readonly settings?: Settings;
  readonly survey?: SurveyDefinition;
  readonly flows: Map<string, FlowDefinition>;
  readonly routing: RoutingRule[];
  readonly tests: { file: string; data: TestsFile }[];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const KIND_DIRS = ["routing/", "flows/", "tests/", "handover-mappings/"] as const;

/**
 * How deep a rule file may nest: what RULES_DIR publishes must also fit the API's 64-level body
 * limit inside `{ ruleset: { files: { <path>: … } } }`, or the API could never take it back.
 */
export const MAX_FILE_DEPTH = 56;

/** The keys to the first value nested deeper than `max`, or undefined. Iterative: no recursion. */
function deeperThan(root: unknown, max: number): PropertyKey[] | undefined {
  const stack: { v: unknown; keys: PropertyKey[] }[] = [{ v: root, keys: [] }];
  while (stack.length > 0) {
    const { v, keys } = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (keys.length >= max) return keys;
    for (const [k, child] of Object.entries(v))
      stack.push({ v: child, keys: [...keys, Array.isArray(v) ? Number(k) : k] });
  }
  return undefined;
}

/** The files of a document, without `schema/` and without top-level `$schema` keys. */
export function normalizeDocument(doc: unknown): { files: Record<string, unknown>; problems: RuleProblem[] } {
  if (!isObject(doc) || !isObject(doc.files))
    return {
      files: {},
      problems: [{ file: "", path: "$.files", message: "a ruleset is { files: { <path>: <json> } }" }],
    };
  const files: Record<string, unknown> = {};
  for (const name of Object.keys(doc.files).sort()) {
    if (name.startsWith("schema/")) continue;
    const content = doc.files[name];
    if (isObject(content) && "$schema" in content) {
      const { $schema: _ignored, ...rest } = content;
      files[name] = rest;
    } else files[name] = content;
  }
  return { files, problems: [] };
}

/** Every problem (errors) and warning in a ruleset, all at once. */
export function validateRuleset(
  doc: unknown,
  options: ValidateOptions = {},
): { problems: RuleProblem[]; warnings: RuleProblem[] } {
  const { problems, warnings } = analyzeRuleset(doc, options);
  return { problems, warnings };
}

/** Validates and returns the typed parts (used by loadRuleset). */
export function analyzeRuleset(doc: unknown, options: ValidateOptions = {}): RulesetAnalysis {
  const { files, problems } = normalizeDocument(doc);
  const warnings: RuleProblem[] = [];
  const out: RulesetAnalysis = { problems, warnings, files, flows: new Map(), routing: [], tests: [] };
  if (problems.length > 0) return out;
  const parse = <T>(file: string, schema: z.ZodType<T>): T | undefined => {
    const r = schema.safeParse(files[file]);
    if (r.success) return r.data;
    problems.push(...issuesToProblems(file, r.error.issues));
    return undefined;
  };

  let settings: Settings | undefined;
  let survey: SurveyDefinition | undefined;
  const routingFiles: { file: string; data: RoutingFile }[] = [];
  // Files that failed their schema: references into them are not reported again (no cascades).
  let routingBroken = false;
  const brokenFlows = new Set<string>();
  const flowFiles: { file: string; data: FlowDefinition }[] = [];
  for (const file of Object.keys(files)) {
    const tooDeep = deeperThan(files[file], MAX_FILE_DEPTH);
    if (tooDeep) {
      problems.push({
        file,
        path: jsonPath(tooDeep),
        message: `nested deeper than ${MAX_FILE_DEPTH} levels`,
      });
      // As for a file that failed its schema: what refers into it is not reported again.
      if (file.startsWith("routing/")) routingBroken = true;
      if (file.startsWith("flows/")) brokenFlows.add(file.slice("flows/".length, -".json".length));
      continue;
    }
    const extra = Object.entries(options.extraSchemas ?? {}).find(([prefix]) => file.startsWith(prefix));
    if (extra) parse(file, extra[1]);
    else if (file === "settings.json") settings = parse(file, SettingsSchema);
    else if (file === "survey.json") survey = parse(file, SurveySchema);
    else if (!/^[a-z-]+\/[^/]+\.json$/.test(file) || !KIND_DIRS.some((d) => file.startsWith(d)))
      problems.push({
        file,
        path: "$",
        message:
          "not a rule file: expected settings.json, survey.json, or routing/, flows/, tests/, handover-mappings/<name>.json",
      });
    else if (file.startsWith("routing/")) {
      const data = parse(file, RoutingFileSchema);
      if (data) routingFiles.push({ file, data });
      else {
        routingBroken = true;
        // The rules of a broken file that are well-formed on their own still get the meaning
        // checks (unknown flow, fact, path, operator…): every problem at once, not in rounds.
        const salvaged = salvageRules(files[file]);
        if (salvaged.length > 0) routingFiles.push({ file, data: { rules: salvaged } });
      }
    } else if (file.startsWith("flows/")) {
      const data = parse(file, FlowSchema);
      if (data) flowFiles.push({ file, data });
      else brokenFlows.add(file.slice("flows/".length, -".json".length));
    } else if (file.startsWith("tests/")) {
      const data = parse(file, TestsFileSchema);
      if (data) out.tests.push({ file, data });
    } else if (!isObject(files[file])) problems.push({ file, path: "$", message: "expected a JSON object" });
  }
  if (!("settings.json" in files))
    problems.push({ file: "settings.json", path: "$", message: "missing file" });
  if (!("survey.json" in files)) problems.push({ file: "survey.json", path: "$", message: "missing file" });

  if (settings) checkSettings(settings, warnings, problems);
  if (survey)
    duplicates(
      survey.questions.map((q, i) => [q.id, `$.questions[${i}].id`]),
      "survey.json",
      "question id",
      problems,
    );

  for (const { file, data } of flowFiles) {
    const expected = file.slice("flows/".length, -".json".length);
    if (data.id !== expected)
      problems.push({
        file,
        path: "$.id",
        message: `flow id "${data.id}" must equal the file name "${expected}"`,
      });
    const other = out.flows.get(data.id);
    if (other) problems.push({ file, path: "$.id", message: `duplicate flow id "${data.id}"` });
    else out.flows.set(data.id, data);
  }

  // A settings.json broken elsewhere (say an fx rate) still names its tiers: the routing rules'
  // facts are checked against them rather than not at all.
  const tierIds = settings ? settings.revenueTiers.map((t) => t.id) : salvageTierIds(files["settings.json"]);
  // A broken survey.json (or tier list) is reported once, and the rules' other facts are still
  // checked: every problem at once, not in rounds.
  const facts = factShapes(survey, tierIds);
  const sink = { problems, warnings };
  for (const { file, data } of flowFiles) checkFlow(file, data, facts, sink);

  for (const { file, data } of routingFiles)
    data.rules.forEach((r, index) => {
      out.routing.push({
        name: r.name,
        priority: r.priority,
        conditions: r.conditions,
        event: r.event,
        file,
        index,
      });
    });
  out.routing.sort(byPrecedence);
  const knownFlow = (id: string) => out.flows.has(id) || brokenFlows.has(id);
  checkRouting(out.routing, knownFlow, facts, sink);
  if (settings && !knownFlow(settings.defaultFlow))
    problems.push({
      file: "settings.json",
      path: "$.defaultFlow",
      message: `unknown flow "${settings.defaultFlow}"`,
    });

  if (survey)
    checkTests(out.tests, survey, knownFlow, routingBroken ? null : out.routing, problems, warnings);
  if (settings) Object.assign(out, { settings });
  if (survey) Object.assign(out, { survey });
  return out;
}

/** The tier ids of a settings.json that failed its schema, when its tier list itself is readable. */
function salvageTierIds(content: unknown): string[] | undefined {
  const tiers = isObject(content) ? content.revenueTiers : undefined;
  if (!Array.isArray(tiers)) return undefined;
  const ids = tiers.map((t) => (isObject(t) && typeof t.id === "string" ? t.id : undefined));
  return ids.every((id) => id !== undefined) ? (ids as string[]) : undefined;
}

/**
 * The well-formed rules of a routing file that failed its schema, at their own positions (a
 * malformed rule keeps its slot as a hole, so reported paths still point at the right rule).
 */
function salvageRules(content: unknown): RoutingFile["rules"] {
  const rules = isObject(content) && Array.isArray(content.rules) ? (content.rules as unknown[]) : [];
  const out: RoutingFile["rules"] = [];
  rules.forEach((r, i) => {
    const parsed = RoutingRuleSchema.safeParse(r);
    if (parsed.success) out[i] = parsed.data;
  });
  return out;
}

function duplicates(entries: [string, string][], file: string, what: string, problems: RuleProblem[]): void {
  const seen = new Set<string>();
  for (const [id, path] of entries) {
    if (seen.has(id)) problems.push({ file, path, message: `duplicate ${what} "${id}"` });
    seen.add(id);
  }
}

function checkSettings(s: Settings, warnings: RuleProblem[], problems: RuleProblem[]): void {
  const file = "settings.json";
  duplicates(
    s.revenueTiers.map((t, i) => [t.id, `$.revenueTiers[${i}].id`]),
    file,
    "tier id",
    problems,
  );
  let prev = -1;
  s.revenueTiers.forEach((t, i) => {
    const path = `$.revenueTiers[${i}].maxAnnualValue`;
    if (t.maxAnnualValue === null) {
      if (i !== s.revenueTiers.length - 1)
        problems.push({ file, path, message: "only the last tier may be unbounded (null)" });
    } else if (t.maxAnnualValue <= prev)
      problems.push({ file, path, message: "tiers must be in ascending maxAnnualValue" });
    else prev = t.maxAnnualValue;
  });
  const last = s.revenueTiers[s.revenueTiers.length - 1];
  if (last && last.maxAnnualValue !== null)
    warnings.push({
      file,
      path: `$.revenueTiers[${s.revenueTiers.length - 1}]`,
      message: 'values above the last tier get revenueTier "unknown"',
    });
  if (s.fx && s.currency in s.fx && s.fx[s.currency] !== 1)
    warnings.push({
      file,
      path: `$.fx.${s.currency}`,
      message: `the rate of ${s.currency} into itself should be 1`,
    });
}

type Sink = { problems: RuleProblem[]; warnings: RuleProblem[] };
type Facts = ReturnType<typeof factShapes> | undefined;

function checkFlow(file: string, flow: FlowDefinition, facts: Facts, sink: Sink): void {
  const ids = new Set<string>();
  flow.steps.forEach((s, i) => {
    if (ids.has(s.id))
      sink.problems.push({ file, path: `$.steps[${i}].id`, message: `duplicate step id "${s.id}"` });
    ids.add(s.id);
  });
  const ref = (id: string | undefined, path: string) => {
    if (id !== undefined && !ids.has(id)) sink.problems.push({ file, path, message: `unknown step "${id}"` });
  };
  if (typeof flow.reroute === "object") ref(flow.reroute.untilStep, "$.reroute.untilStep");
  flow.steps.forEach((s, i) => {
    const at = `$.steps[${i}]`;
    ref(s.next, `${at}.next`);
    if (s.type === "wait") ref(s.onTimeout, `${at}.onTimeout`);
    if (s.type === "branch") {
      ref(s.otherwise, `${at}.otherwise`);
      s.branches.forEach((b, j) => {
        ref(b.next, `${at}.branches[${j}].next`);
        if (facts)
          checkConditions(b.conditions, file, ["steps", i, "branches", j, "conditions"], facts, sink);
      });
    }
    if (s.type === "end" && s.next !== undefined)
      sink.warnings.push({ file, path: `${at}.next`, message: "an end step has no next" });
  });
  const loop = immediateLoop(flow);
  if (loop)
    sink.problems.push({
      file,
      path: `$.steps[${flow.steps.findIndex((x) => x.id === loop[0])}]`,
      message: `steps ${[...loop, loop[0]].join(" → ")} loop without a wait or task: an instance in it would run forever`,
    });
  const lastStep = flow.steps[flow.steps.length - 1];
  if (lastStep && lastStep.type !== "end" && lastStep.type !== "branch" && lastStep.next === undefined)
    sink.warnings.push({
      file,
      path: `$.steps[${flow.steps.length - 1}]`,
      message: "the last step is not an end step; the flow completes after it",
    });
}

/**
 * A cycle of steps that move on by themselves (actions, branches), or undefined. A wait or a task
 * in a loop lets time or a person pace it; without one the instance would loop as fast as jobs run.
 */
function immediateLoop(flow: FlowDefinition): string[] | undefined {
  const byId = new Map(flow.steps.map((x) => [x.id, x]));
  const successors = (id: string): string[] => {
    const step = byId.get(id);
    if (step?.type === "action") {
      const next = nextOf(flow, step);
      return next === undefined ? [] : [next];
    }
    if (step?.type === "branch") return [...step.branches.map((b) => b.next), step.otherwise];
    return [];
  };
  const state = new Map<string, "open" | "done">();
  const trail: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === "open") return trail.slice(trail.indexOf(id));
    if (state.has(id) || !byId.has(id)) return undefined;
    state.set(id, "open");
    trail.push(id);
    for (const next of successors(id)) {
      const loop = visit(next);
      if (loop) return loop;
    }
    trail.pop();
    state.set(id, "done");
    return undefined;
  };
  for (const step of flow.steps) {
    const loop = visit(step.id);
    if (loop) return loop;
  }
  return undefined;
}

function checkRouting(
  rules: readonly RoutingRule[],
  knownFlow: (id: string) => boolean,
  facts: Facts,
  sink: Sink,
): void {
  const names = new Map<string, RoutingRule>();
  for (const r of rules) {
    const at = `$.rules[${r.index}]`;
    const first = names.get(r.name);
    if (first)
      sink.problems.push({
        file: r.file,
        path: `${at}.name`,
        message: `duplicate rule name "${r.name}" (also in ${first.file})`,
      });
    else names.set(r.name, r);
    const p = r.event.params;
    if ("flow" in p) {
      if (!knownFlow(p.flow))
        sink.problems.push({
          file: r.file,
          path: `${at}.event.params.flow`,
          message: `unknown flow "${p.flow}"`,
        });
    } else
      p.variants.forEach((v, j) => {
        if (!knownFlow(v.flow))
          sink.problems.push({
            file: r.file,
            path: `${at}.event.params.variants[${j}].flow`,
            message: `unknown flow "${v.flow}"`,
          });
      });
    if (facts) checkConditions(r.conditions, r.file, ["rules", r.index, "conditions"], facts, sink);
  }
  for (const { rule, shadowedBy } of findShadowedRules(rules))
    sink.problems.push({
      file: rule.file,
      path: `$.rules[${rule.index}].conditions`,
      message: `rule "${rule.name}" can never win: its conditions imply those of "${shadowedBy.name}" (priority ${shadowedBy.priority}, ${shadowedBy.file}), which is tried first`,
    });
}

function checkTests(
  tests: RulesetAnalysis["tests"],
  survey: SurveyDefinition,
  knownFlow: (id: string) => boolean,
  rules: readonly RoutingRule[] | null,
  problems: RuleProblem[],
  warnings: RuleProblem[],
): void {
  const answers = buildAnswersSchema(survey);
  const ruleNames = rules && new Set(rules.map((r) => r.name));
  for (const { file, data } of tests) {
    duplicates(
      data.cases.map((c, i) => [c.name, `$.cases[${i}].name`]),
      file,
      "case name",
      warnings,
    );
    data.cases.forEach((c, i) => {
      const r = answers.safeParse(c.survey);
      if (!r.success) problems.push(...issuesToProblems(file, r.error.issues, ["cases", i, "survey"]));
      if (c.handover !== undefined) {
        const h = canonicalHandoverSchema.safeParse(c.handover);
        if (!h.success) problems.push(...issuesToProblems(file, h.error.issues, ["cases", i, "handover"]));
      }
      if (!knownFlow(c.expect.flow))
        problems.push({
          file,
          path: jsonPath(["cases", i, "expect", "flow"]),
          message: `unknown flow "${c.expect.flow}"`,
        });
      if (ruleNames && typeof c.expect.rule === "string" && !ruleNames.has(c.expect.rule))
        problems.push({
          file,
          path: jsonPath(["cases", i, "expect", "rule"]),
          message: `unknown rule "${c.expect.rule}"`,
        });
    });
  }
}
