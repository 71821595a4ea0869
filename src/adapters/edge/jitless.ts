import { z } from "zod";

/**
 * Workers forbid `eval`/`new Function`. zod decides at schema definition time whether to
 * compile a fast path, so this module must be the first import of the Workers entry.
 */
z.config({ jitless: true });
