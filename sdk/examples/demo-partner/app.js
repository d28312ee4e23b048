// Acme Books: mounting Jupid. This file is the copy-paste example for partners.
// Served under a strict CSP (no inline scripts, no eval): embed.js needs nothing more.
const config = JSON.parse(document.getElementById("demo-config").textContent);
const list = document.getElementById("events");
let embed;

/** Ask your own server for a fresh token; it signs one for the logged-in user (never in the browser). */
async function getToken() {
  const response = await fetch("/api/jupid/embed-token", { credentials: "same-origin" });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const { token } = await response.json();
  return token;
}

function showEvent(event) {
  const { type, ...payload } = event;
  const item = document.createElement("li");
  item.className = type;
  item.textContent = `${new Date().toLocaleTimeString()} ${type} ${Object.keys(payload).length ? JSON.stringify(payload) : ""}`;
  list.append(item);
  window.jupidDemo.events.push(event);
}

function mount() {
  embed = window.JupidEmbed.mount({
    partnerId: config.partnerId,
    container: "#jupid",
    getToken,
    initialPath: "/dashboard",
    onEvent: showEvent,
  });
}

window.jupidDemo = { events: [], get handle() { return embed; } };
mount();

for (const button of document.querySelectorAll("[data-path]")) {
  button.addEventListener("click", () => embed.navigate(button.dataset.path));
}
document.getElementById("remount").addEventListener("click", () => {
  embed.destroy();
  mount();
});
document.getElementById("signout").addEventListener("click", () => embed.signOut());

// When your user logs out of your app, end their Jupid session too, so the next user of this browser starts clean.
document.getElementById("logout").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  let submitted = false;
  const done = () => {
    if (!submitted) form.submit();
    submitted = true;
  };
  embed.on("authRequired", done);
  setTimeout(done, 1500);
  embed.signOut();
});
