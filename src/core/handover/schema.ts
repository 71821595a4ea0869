import { z } from "zod";
import { SUBJECT_ID_MESSAGE, SUBJECT_ID_PATTERN } from "../ids.js";

/**
 * The canonical sales→service handover (CONTRACT.md "POST /v1/handover").
 *
 * Unknown keys are ignored and not stored: a handover is a webhook, and a sender that adds a field
 * (a CRM mapping, a newer integration) must not have every delivery refused and retried until it
 * gives up (the webhook convention: consumers ignore fields they do not know). Required fields
 * still catch typos of themselves (`acountId` → `accountId: required`). Strings are kept verbatim
 * (no trim). Bounds keep hostile input cheap to reject before it reaches storage or rules.
 */

/** Longest ordinary string field (names, industry, products, goals, …). */
export const MAX_STRING = 2000;
/** Longest free-text `notes`. */
export const MAX_NOTES = 10_000;
export const MAX_CONTACTS = 200;
export const MAX_LIST = 100;

export const REGIONS = ["NA", "EMEA", "APAC", "LATAM"] as const;
export const CONTACT_ROLES = [
  "executive_sponsor",
  "decision_maker",
  "influencer",
  "end_user",
  "admin",
] as const;

export type Region = (typeof REGIONS)[number];
export type ContactRole = (typeof CONTACT_ROLES)[number];

const text = (max = MAX_STRING) => z.string().min(1, "expected a non-empty string").max(max);

const isoDate = z.iso.date({ error: "expected an ISO 8601 date (YYYY-MM-DD)" });

/**
 * ISO 8601 extended date-time with a zone: seconds and fraction optional, zone `Z` or `±HH:MM`,
 * nothing else. A zone-less date-time is refused (its instant would depend on the server's time
 * zone), and so is a basic `±HHMM` offset, which the rules' `dateBefore`/`dateAfter` cannot read.
 */
const DATE_ERROR = "expected an ISO 8601 date (YYYY-MM-DD) or date-time with a zone (2025-03-31T17:00:00Z)";
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

function isIsoDateTime(v: string): boolean {
  const m = DATE_TIME.exec(v);
  if (!m || Number.isNaN(Date.parse(v))) return false;
  return isoDate.safeParse(`${m[1]}-${m[2]}-${m[3]}`).success;
}

const isoDateOrDateTime = z
  .string({ error: DATE_ERROR })
  .refine((v) => isoDate.safeParse(v).success || isIsoDateTime(v), { error: DATE_ERROR })
  .meta({
    description: "ISO 8601 date (`2025-03-31`) or date-time with a zone (`2025-03-31T17:00Z`, `…+02:00`).",
  });

export const contactSchema = z
  .object({
    // Permissive on purpose: CRMs hold addresses a strict RFC/TLD check refuses (`ops@intranet`),
    // and refusing one would lose the whole handover; the address is only stored, never mailed.
    email: z
      .string()
      .max(320)
      // Surrounding spaces (a CRM copy-paste) are allowed and kept: strings are stored verbatim.
      .regex(/^\s*[^\s@]+@[^\s@]+\s*$/, "expected an email address"),
    name: text().optional(),
    role: z.enum(CONTACT_ROLES, { error: `expected one of ${CONTACT_ROLES.join(", ")}` }),
  })
  .meta({ description: "A person on the customer's side and their part in the onboarding." });

export const accountSchema = z.object({
  name: text().meta({ description: "The customer company's name, as sent." }),
  industry: text().meta({
    description:
      "Free text; rules match its normalised lower snake case (`Financial Services` → `financial_services`).",
  }),
  region: z.enum(REGIONS, { error: `expected one of ${REGIONS.join(", ")}` }),
  employees: z.int().min(0).max(100_000_000).optional(),
  annualRevenue: z
    .number()
    .min(0)
    .max(1e15)
    .optional()
    .meta({ description: "The customer company's own yearly revenue (not the deal value)." }),
});

export const dealSchema = z.object({
  id: text(256),
  amount: z
    .number({ error: "expected a number" })
    .min(0, "expected a number ≥ 0")
    .max(1e15)
    .meta({ description: "The contract's annual value in major units of `currency`." }),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "expected an ISO 4217 code: 3 uppercase letters, e.g. EUR")
    .meta({ description: "ISO 4217 currency code." }),
  closedAt: isoDateOrDateTime,
  products: z.array(text()).max(MAX_LIST),
  termMonths: z.int().min(1).max(600).optional(),
});

export const requirementsSchema = z.object({
  sso: z.boolean().optional(),
  integrations: z.array(text()).max(MAX_LIST).optional(),
  dataResidency: text().optional(),
});

export const canonicalHandoverExample = {
  accountId: "acme-corp",
  account: { name: "Acme Corp", industry: "Financial Services", region: "EMEA", employees: 1200 },
  deal: {
    id: "deal-8841",
    amount: 48000,
    currency: "EUR",
    closedAt: "2025-03-31",
    products: ["router-pro", "sso-addon"],
    termMonths: 12,
  },
  contacts: [{ email: "cfo@acme.example", name: "Dana Reyes", role: "executive_sponsor" }],
  goals: ["cut onboarding time to 2 weeks"],
  requirements: { sso: true, integrations: ["salesforce"], dataResidency: "EU" },
  goLiveDate: "2025-05-01",
} as const;

export const canonicalHandoverSchema = z
  .object({
    accountId: z
      .string()
      .regex(SUBJECT_ID_PATTERN, SUBJECT_ID_MESSAGE)
      .meta({ description: "The account this handover belongs to." }),
    account: accountSchema,
    deal: dealSchema,
    contacts: z.array(contactSchema).max(MAX_CONTACTS),
    goals: z.array(text()).max(MAX_LIST).optional(),
    requirements: requirementsSchema.optional(),
    goLiveDate: isoDate
      .optional()
      .meta({ description: "The promised go-live date; used to detect handover gaps." }),
    notes: text(MAX_NOTES).optional(),
  })
  .meta({
    description:
      "The canonical sales→service handover. Unknown keys are ignored and not stored; strings are stored verbatim.",
    example: canonicalHandoverExample,
  });

export type CanonicalHandover = z.infer<typeof canonicalHandoverSchema>;
