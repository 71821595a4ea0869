import { parsePath } from "../decision/path.js";
import { CONTACT_ROLES, REGIONS } from "../handover/schema.js";
import type { SurveyDefinition } from "./schemas.js";

/** The declared shape of a fact, so rules can be checked for paths that cannot exist. */
export type Shape =
  | { readonly kind: "string"; readonly values?: readonly string[] }
  | { readonly kind: "number" | "boolean" | "date" | "any" }
  | { readonly kind: "array"; readonly items: Shape }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Shape>> };

const str: Shape = { kind: "string" };
const num: Shape = { kind: "number" };
const bool: Shape = { kind: "boolean" };
const date: Shape = { kind: "date" };
const oneOf = (values: readonly string[]): Shape => ({ kind: "string", values });
const arr = (items: Shape): Shape => ({ kind: "array", items });
const obj = (fields: Record<string, Shape>): Shape => ({ kind: "object", fields });

/** The canonical handover (CONTRACT.md "POST /v1/handover"), as the `handover` fact holds it. */
export const HANDOVER_SHAPE: Shape = obj({
  accountId: str,
  account: obj({ name: str, industry: str, region: oneOf(REGIONS), employees: num, annualRevenue: num }),
  deal: obj({ id: str, amount: num, currency: str, closedAt: date, products: arr(str), termMonths: num }),
  contacts: arr(obj({ email: str, name: str, role: oneOf(CONTACT_ROLES) })),
  goals: arr({ kind: "any" }),
  goLiveDate: date,
  requirements: obj({ sso: bool, integrations: arr(str), dataResidency: str }),
  notes: str,
});

export const ACCOUNT_SHAPE: Shape = obj({
  id: str,
  segment: oneOf(["smb", "mid_market", "enterprise", "unknown"]),
  revenueTier: str,
  annualValue: num,
  regulated: bool,
  region: oneOf([...REGIONS, "unknown"]),
  industry: str,
  tenureDays: num,
  productCount: num,
  handoverGaps: arr(
    oneOf([
      "no_handover",
      "no_executive_sponsor",
      "no_decision_maker",
      "no_goals",
      "no_go_live_date",
      "missing_requirements",
    ]),
  ),
  hasHandover: bool,
});

const USER_SHAPE: Shape = obj({ id: str, role: oneOf(CONTACT_ROLES) });

/** The shape of the `survey` fact: one field per question. */
export function surveyShape(survey: SurveyDefinition): Shape {
  const fields: Record<string, Shape> = {};
  for (const q of survey.questions) {
    fields[q.id] =
      q.type === "number" || q.type === "integer"
        ? num
        : q.type === "boolean"
          ? bool
          : q.type === "date"
            ? date
            : q.type === "enum"
              ? oneOf(q.values ?? [])
              : q.type === "multi"
                ? arr(oneOf(q.values ?? []))
                : str;
  }
  return obj(fields);
}

/** Every fact a rule may name, with its shape. */
export function factShapes(
  /** Undefined when survey.json is broken: any survey path passes, the other facts are still checked. */
  survey: SurveyDefinition | undefined,
  /** Undefined when settings.json names no tiers: any revenue tier passes. */
  tierIds: readonly string[] | undefined,
): ReadonlyMap<string, Shape> {
  const account =
    ACCOUNT_SHAPE.kind === "object"
      ? obj({ ...ACCOUNT_SHAPE.fields, revenueTier: tierIds ? oneOf([...tierIds, "unknown"]) : str })
      : ACCOUNT_SHAPE;
  return new Map<string, Shape>([
    ["survey", survey ? surveyShape(survey) : { kind: "any" }],
    ["handover", HANDOVER_SHAPE],
    ["account", account],
    ["user", USER_SHAPE],
    ["now", date],
  ]);
}

/** The shape at a JSON path (`$.a.b`, `$.a[0].b`, `$['a b']`, as the evaluator reads them), or an error message. */
export function resolvePath(
  shape: Shape,
  path: string,
): { ok: true; shape: Shape } | { ok: false; message: string } {
  const segments = parsePath(path);
  if (segments === null)
    return { ok: false, message: `cannot read path "${path}"; write it like $.account.industry` };
  let cur = shape;
  let walked = "$";
  for (const seg of segments) {
    if (cur.kind === "any") return { ok: true, shape: cur };
    if (typeof seg === "number") {
      if (cur.kind !== "array") return { ok: false, message: `${walked} is ${cur.kind}, not an array` };
      cur = cur.items;
      walked += `[${seg}]`;
      continue;
    }
    if (cur.kind !== "object")
      return { ok: false, message: `${walked} is ${cur.kind}, it has no field "${seg}"` };
    const next = Object.hasOwn(cur.fields, seg) ? cur.fields[seg] : undefined;
    if (!next)
      return {
        ok: false,
        message: `unknown path ${walked}.${seg}; known: ${Object.keys(cur.fields).join(", ")}`,
      };
    cur = next;
    walked += `.${seg}`;
  }
  return { ok: true, shape: cur };
}
