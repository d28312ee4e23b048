/** GET /healthz — 200 once the handler can build its runtime. */
import { httpHandler } from "../http/handler.ts";
import { requireMethod } from "../http/request.ts";
import { json } from "../http/responses.ts";
import { awsRuntime, type RuntimeSource } from "./runtime.ts";

export function createHealthHandler(runtime: RuntimeSource) {
  return httpHandler("health", async (event) => {
    requireMethod(event, "GET", "HEAD");
    const { settings } = runtime();
    return json(200, { status: "ok", environment: settings.environment });
  });
}

export const handler = createHealthHandler(awsRuntime);
