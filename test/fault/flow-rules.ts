import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RULES_DIR } from "../support/app.js";

/** The short flow the fault suite drives: two webhook actions around a 1 s wait, then (optionally) an event. */
export function shortFlow(receiverUrl: string, withEvent: boolean) {
  return {
    id: "fast-track",
    name: "Fault-suite fast track (short)",
    reroute: "never",
    steps: [
      { id: "call-a", type: "action", title: "First call", url: `${receiverUrl}/act` },
      { id: "pause", type: "wait", title: "Pause", duration: "PT1S" },
      { id: "call-b", type: "action", title: "Second call", url: `${receiverUrl}/act` },
      ...(withEvent
        ? [
            {
              id: "await-go",
              type: "wait",
              title: "Wait for go",
              event: "go",
              timeout: "P1D",
              onTimeout: "done",
            },
          ]
        : []),
      { id: "done", type: "end", title: "Done" },
    ],
  };
}

/** A temp copy of `rules/` whose `fast-track` flow is the short flow; `remove()` deletes it. */
export function shortRulesDir(receiverUrl: string, withEvent: boolean): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "or-fault-rules-"));
  cpSync(RULES_DIR, dir, { recursive: true });
  writeFileSync(
    join(dir, "flows/fast-track.json"),
    JSON.stringify(shortFlow(receiverUrl, withEvent), null, 2),
  );
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
