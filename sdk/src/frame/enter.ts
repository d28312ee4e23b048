/**
 * The redirect-entry page (GET /partner/{partnerId}/enter without a token):
 * reads `#token=…&path=…` — a fragment never reaches a server, a log or a
 * Referer — removes it from the address bar and history, and POSTs it.
 */
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token");
const path = params.get("path");
history.replaceState(null, "", location.pathname + location.search);

const form = document.getElementById("enter") as HTMLFormElement | null;
if (form && token) {
  (form.elements.namedItem("token") as HTMLInputElement).value = token;
  const pathInput = form.elements.namedItem("path") as HTMLInputElement;
  if (path) pathInput.value = path;
  else pathInput.disabled = true;
  form.submit();
} else {
  const message = document.getElementById("message");
  if (message) message.textContent = "This link carries no sign-in token. Go back to the app you came from and open Jupid again.";
}
