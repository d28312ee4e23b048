/**
 * The workspace bridge: the inline script of the (stub) workspace at /app/...
 * Inside an SDK frame it reports `authenticated` (once per sign-in),
 * `navigate` and `resize` to the partner page and obeys its `navigate` and
 * `signOut`. Opened directly (redirect integration) it does nothing.
 */
import { frameName, isAppPath, type WorkspacePageConfig } from "../protocol.ts";
import { call, parentChannel, readConfig } from "./shared.ts";

const config = readConfig<WorkspacePageConfig>();
const parent = parentChannel(config.allowedOrigins);

if (parent) {
  const { id, origin, auth } = parent.name;
  const reportPath = () =>
    parent.post("jupid:navigate", {
      path: (location.pathname.slice(config.basePath.length) || "/") + location.search + location.hash,
    });

  if (auth) {
    window.name = frameName({ id, origin });
    parent.post("jupid:authenticated", { firstRun: auth === "first" });
  }
  reportPath();
  addEventListener("hashchange", reportPath);
  addEventListener("popstate", reportPath);

  // Height of the content itself (the root box with height:auto), not of the viewport: a frame
  // sized to its content must be able to shrink again.
  let sent = 0;
  let pending = false;
  const measure = () => {
    pending = false;
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== sent) {
      sent = height;
      parent.post("jupid:resize", { height });
    }
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      setTimeout(measure, 50);
    }
  };
  // ResizeObserver only runs while the frame renders, and Chromium stops rendering cross-origin
  // frames that are out of view; DOM mutations and `load` still reach a frame below the fold.
  new ResizeObserver(schedule).observe(document.documentElement);
  new MutationObserver(schedule).observe(document.documentElement, { subtree: true, childList: true, attributes: true, characterData: true });
  addEventListener("load", schedule);
  measure();

  // The session cookie ends with the session: say so instead of letting the next click hit a page the partner may not frame.
  setTimeout(
    () => parent.post("jupid:authRequired", { code: "SESSION_REQUIRED" }),
    Math.min(config.expiresIn * 1000, 2 ** 31 - 1),
  );

  parent.listen((data) => {
    if (data.type === "jupid:navigate" && isAppPath(data.path)) {
      location.assign(config.basePath + data.path);
    } else if (data.type === "jupid:signOut") {
      void call("DELETE", `/embed/${config.partnerId}/session`).then(() => location.replace(`/embed/${config.partnerId}`));
    }
  });
}
