/**
 * GET /healthz — 200 once the handler can read its settings. It imports no
 * AWS SDK and builds no client: it needs neither.
 */
import { httpHandler } from "../http/handler.ts";
import { requireMethod } from "../http/request.ts";
import { json } from "../http/responses.ts";
import { lambdaSettings } from "./lambda-settings.ts";
import type { Runtime } from "./runtime.ts";

export function createHealthHandler(runtime: () => Pick<Runtime, "settings">) {
  return httpHandler("health", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const { settings } = runtime();
    return json(200, { status: "ok", environment: settings.environment });
  });
}

export const handler = createHealthHandler(() => ({ settings: lambdaSettings() }));
