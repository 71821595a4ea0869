import type { Decision } from "../decision/types.js";
import { buildFacts, type HandoverView } from "../facts.js";
import type { Ruleset } from "./load.js";
import type { RuleProblem } from "./problems.js";
import type { TestCase } from "./schemas.js";

/** The `now` a test case gets when it names none, so shipped cases do not drift with the calendar. */
export const DEFAULT_TEST_NOW = "2026-01-15T09:00:00Z";

/** The experiment seed for a subject: `accountId`, or `accountId:userId` for a user. */
export function subjectKey(accountId: string, userId?: string): string {
  return userId === undefined ? accountId : `${accountId}:${userId}`;
}

export interface CaseResult {
  readonly file: string;
  readonly index: number;
  readonly name: string;
  readonly passed: boolean;
  readonly expected: TestCase["expect"];
  readonly actual: { readonly flow: string; readonly rule: string | null };
  readonly decision: Decision;
}

/** Decides one test case the way `/v1/route` would. */
export async function decideCase(ruleset: Ruleset, c: TestCase): Promise<Decision> {
  const accountId = c.accountId ?? "test-account";
  const facts = buildFacts({
    accountId,
    userId: c.userId,
    role: c.role,
    answers: c.survey.answers,
    handover: c.handover as HandoverView | undefined,
    now: new Date(c.now ?? DEFAULT_TEST_NOW),
    settings: ruleset.settings,
  });
  return ruleset.decider.decide(facts, subjectKey(accountId, c.userId));
}

/** Runs every case of `tests/*.json`: flow must match, and the rule when the case names one (null = default). */
export async function runRuleTests(ruleset: Ruleset): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const { file, data } of ruleset.tests)
    for (const [index, c] of data.cases.entries()) {
      const decision = await decideCase(ruleset, c);
      const passed =
        decision.flow === c.expect.flow && (c.expect.rule === undefined || c.expect.rule === decision.rule);
      out.push({
        file,
        index,
        name: c.name,
        passed,
        expected: c.expect,
        actual: { flow: decision.flow, rule: decision.rule },
        decision,
      });
    }
  return out;
}

/** The failing cases as ruleset problems (file, `$.cases[i].expect`, what was expected and got). */
export async function failingCaseProblems(ruleset: Ruleset): Promise<RuleProblem[]> {
  return (await runRuleTests(ruleset))
    .filter((r) => !r.passed)
    .map((r) => ({
      file: r.file,
      path: `$.cases[${r.index}].expect`,
      message: `case "${r.name}" expects ${r.expected.flow}${
        r.expected.rule === undefined ? "" : ` (rule ${r.expected.rule ?? "default"})`
      }, got ${r.actual.flow} (${r.actual.rule ? `rule ${r.actual.rule}` : "default"})`,
    }));
}
