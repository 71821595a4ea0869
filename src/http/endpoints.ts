import type { AppDeps, Endpoint } from "./context.js";
import { openApiEndpoint } from "./openapi.js";
import { postAccountEvent } from "./routes/accounts/events.js";
import { getAccount } from "./routes/accounts/get.js";
import { postOutcome } from "./routes/accounts/outcomes.js";
import { postHubspotHandover, postSalesforceHandover } from "./routes/handover/crm.js";
import { postHandover } from "./routes/handover/post.js";
import { healthEndpoints } from "./routes/health.js";
import { postRoute } from "./routes/route/post.js";
import type { RouterServices } from "./services.js";

/** Endpoints both entries serve identically (CONTRACT.md "Both entries serve …"). */
export function sharedEndpoints(
  deps: Pick<AppDeps<RouterServices>, "readiness" | "services">,
): Endpoint<RouterServices>[] {
  return [
    ...healthEndpoints(deps),
    postRoute,
    postHandover,
    postHubspotHandover,
    postSalesforceHandover,
    getAccount,
    postAccountEvent,
    postOutcome,
  ];
}

/** Adds `/openapi.json`, documenting every endpoint in the list (including itself). */
export function withOpenApi(
  endpoints: Endpoint<RouterServices>[],
  version: string,
): Endpoint<RouterServices>[] {
  const all: Endpoint<RouterServices>[] = [...endpoints];
  all.push(openApiEndpoint(() => all, version));
  return all;
}
