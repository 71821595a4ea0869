import type { AccountFacts, Facts } from "./decision/types.js";
import type { Settings } from "./ruleset/schemas.js";

/** What facts read from a canonical handover (a structural view; the schema lives in src/core/handover). */
export interface HandoverView {
  readonly account?: {
    readonly industry?: string;
    readonly region?: string;
    readonly employees?: number;
    readonly annualRevenue?: number;
    readonly [key: string]: unknown;
  };
  readonly deal?: {
    readonly amount?: number;
    readonly currency?: string;
    readonly closedAt?: string;
    readonly products?: readonly string[];
    readonly [key: string]: unknown;
  };
  readonly contacts?: readonly { readonly role?: string; readonly [key: string]: unknown }[];
  readonly goals?: readonly unknown[];
  readonly goLiveDate?: string;
  readonly requirements?: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export type HandoverGap =
  | "no_handover"
  | "no_executive_sponsor"
  | "no_decision_maker"
  | "no_goals"
  | "no_go_live_date"
  | "missing_requirements";

export interface FactsInput {
  readonly accountId: string;
  readonly userId?: string | undefined;
  readonly role?: string | undefined;
  readonly answers: Readonly<Record<string, unknown>>;
  readonly handover?: HandoverView | undefined;
  readonly now: Date;
  readonly settings: Settings;
}

const DAY_MS = 86_400_000;

/** Lower snake case for matching free-text industries: "Financial Services" → "financial_services". */
export function normalizeIndustry(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** What a handover lacks that a CSM needs for a good kickoff. */
export function computeHandoverGaps(handover: HandoverView | undefined): HandoverGap[] {
  if (!handover) return ["no_handover"];
  const gaps: HandoverGap[] = [];
  const roles = new Set((handover.contacts ?? []).map((c) => c.role));
  if (!roles.has("executive_sponsor")) gaps.push("no_executive_sponsor");
  if (!roles.has("decision_maker")) gaps.push("no_decision_maker");
  if (!handover.goals || handover.goals.length === 0) gaps.push("no_goals");
  if (!handover.goLiveDate) gaps.push("no_go_live_date");
  const req = handover.requirements;
  if (!req || Object.values(req).every((v) => v === undefined)) gaps.push("missing_requirements");
  return gaps;
}

/** Company size by head count (else the customer's own revenue in settings.currency). */
function segmentOf(employees: number | undefined, revenue: number | undefined): string {
  if (employees !== undefined && Number.isFinite(employees))
    return employees < 100 ? "smb" : employees < 1000 ? "mid_market" : "enterprise";
  if (revenue !== undefined && Number.isFinite(revenue))
    return revenue < 50_000_000 ? "smb" : revenue < 1_000_000_000 ? "mid_market" : "enterprise";
  return "unknown";
}

/** Converts an amount into settings.currency; null when no rate is known. */
function toHomeCurrency(amount: number, currency: string | undefined, settings: Settings): number | null {
  const ccy = (currency ?? settings.currency).toUpperCase();
  if (ccy === settings.currency) return amount;
  const rate = settings.fx?.[ccy];
  // Rounded to cents so 40000 × 1.1 is 44000, not 44000.00000000001, in rules and traces.
  return rate === undefined ? null : Math.round(amount * rate * 100) / 100;
}

function tierOf(value: number, settings: Settings): string {
  for (const t of settings.revenueTiers)
    if (t.maxAnnualValue === null || value <= t.maxAnnualValue) return t.id;
  return "unknown";
}

const regulatedCache = new WeakMap<Settings, ReadonlySet<string>>();
function regulatedSet(settings: Settings): ReadonlySet<string> {
  let set = regulatedCache.get(settings);
  if (!set) {
    set = new Set(settings.regulatedIndustries.map(normalizeIndustry));
    regulatedCache.set(settings, set);
  }
  return set;
}

/** The facts a decision sees: answers, the handover (industry normalised), derived account facts, the user, now. */
export function buildFacts(input: FactsInput): Facts {
  const { handover, settings, now } = input;
  const user: { id?: string; role?: string } = {};
  if (input.userId !== undefined) user.id = input.userId;
  if (input.role !== undefined) user.role = input.role;
  const base = { survey: input.answers, user, now: now.toISOString() };
  if (!handover) {
    const account: AccountFacts = {
      id: input.accountId,
      segment: "unknown",
      revenueTier: "unknown",
      annualValue: 0,
      regulated: false,
      region: "unknown",
      industry: "unknown",
      tenureDays: 0,
      productCount: 0,
      handoverGaps: ["no_handover"],
      hasHandover: false,
    };
    return { ...base, account };
  }
  const deal = handover.deal ?? {};
  const acct = handover.account ?? {};
  const industry = typeof acct.industry === "string" ? normalizeIndustry(acct.industry) : "";
  const amount =
    typeof deal.amount === "number" ? toHomeCurrency(deal.amount, deal.currency, settings) : null;
  const revenue =
    typeof acct.annualRevenue === "number"
      ? toHomeCurrency(acct.annualRevenue, deal.currency, settings)
      : null;
  const closed = typeof deal.closedAt === "string" ? Date.parse(deal.closedAt) : Number.NaN;
  const account: AccountFacts = {
    id: input.accountId,
    segment: segmentOf(acct.employees, revenue ?? undefined),
    revenueTier: amount === null ? "unknown" : tierOf(amount, settings),
    annualValue: amount ?? 0,
    regulated: industry !== "" && regulatedSet(settings).has(industry),
    region: typeof acct.region === "string" ? acct.region : "unknown",
    industry: industry || "unknown",
    tenureDays: Number.isNaN(closed) ? 0 : Math.max(0, Math.floor((now.getTime() - closed) / DAY_MS)),
    productCount: new Set(deal.products ?? []).size,
    handoverGaps: computeHandoverGaps(handover),
    hasHandover: true,
  };
  const handoverFact =
    typeof acct.industry === "string"
      ? { ...handover, account: { ...handover.account, industry } }
      : handover;
  return { ...base, handover: handoverFact, account };
}
