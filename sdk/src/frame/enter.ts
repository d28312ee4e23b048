/**
 * The redirect-entry page (GET /partner/{partnerId}/enter without a token):
 * reads `#token=…&path=…` — a fragment never reaches a server, a log or a
 * Referer — removes it from the address bar and history, and POSTs it with
 * where the link was opened from: `document.referrer`'s origin, but only when
 * it is one of the partner's allowed origins (else the gateway asks the user
 * to confirm the sign-in; it checks the reported origin again).
 */
import type { EnterPageConfig } from "../../../lambdas/http/pages/enter-page.ts";
import { readConfig } from "./shared.ts";

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token");
const path = params.get("path");
history.replaceState(null, "", location.pathname + location.search);

function referrerOrigin(allowed: readonly string[]): string | undefined {
  try {
    const origin = document.referrer ? new URL(document.referrer).origin : undefined;
    return origin !== undefined && allowed.includes(origin) ? origin : undefined;
  } catch {
    return undefined;
  }
}

const form = document.getElementById("enter") as HTMLFormElement | null;
if (form && token) {
  (form.elements.namedItem("token") as HTMLInputElement).value = token;
  const pathInput = form.elements.namedItem("path") as HTMLInputElement;
  if (path) pathInput.value = path;
  else pathInput.disabled = true;
  const fromInput = form.elements.namedItem("from") as HTMLInputElement;
  const from = referrerOrigin(readConfig<Partial<EnterPageConfig>>().allowedOrigins ?? []);
  if (from) fromInput.value = from;
  else fromInput.disabled = true;
  form.submit();
} else {
  const message = document.getElementById("message");
  if (message) message.textContent = "This link carries no sign-in token. Go back to the app you came from and open Jupid again.";
}
