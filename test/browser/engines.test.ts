/**
 * The embed in every engine (test/browser/engines/): Chromium (default, and
 * with third-party cookies blocked), Firefox ESR and WebKitGTK (Safari's
 * engine), each with its default privacy settings, the app on
 * https://127.0.0.1 (self-signed certificate) and the partner page on
 * http://localhost — another site. One launch per engine for the file, a
 * fresh profile per test.
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureLocalCertificate } from "../../lambdas/local/tls.ts";
import { ENGINE_VARIANTS, EngineUnavailableError, type EngineVariant, launchEngine } from "./engines/index.ts";
import { engineWorld } from "./engines/world.ts";
import { embedEvents, hostMessages, mountEmbed, openHarnessPage, waitForEmbedEvent } from "./engines/harness.ts";
import { FIRST_RUN_PATH, newUser, PARTNER_ID, type Stack, startStack } from "./support.ts";

/**
 * What each engine does, with its default settings, to a plain (not
 * `Partitioned`) `SameSite=None; Secure` cookie set in a cross-site iframe —
 * proof that each variant runs with the privacy rules its users have, and
 * that neither the drivers' launch options nor puppeteer's Firefox profile
 * weaken them. (localStorage in such a frame is partitioned in all of them.)
 * - shared: the frame keeps it and the site sees it again as a first party;
 * - partitioned: the frame keeps it, in a jar of the embedding site only;
 * - blocked: the frame cannot keep it at all.
 * Debian's Chromium 156 already blocks it without the phase-out switch.
 */
const THIRD_PARTY_COOKIES: Readonly<Record<EngineVariant, "shared" | "partitioned" | "blocked">> = {
  chromium: "blocked",
  "chromium-3pc-blocked": "blocked",
  firefox: "partitioned",
  webkit: "blocked",
};

/** Which variable points each engine at its binaries (to prove the install hints). */
const PREREQUISITES: Readonly<Record<EngineVariant, readonly { envName: string; install: string }[]>> = {
  chromium: [{ envName: "CHROMIUM_PATH", install: "apt-get install -y chromium" }],
  "chromium-3pc-blocked": [{ envName: "CHROMIUM_PATH", install: "apt-get install -y chromium" }],
  firefox: [{ envName: "FIREFOX_PATH", install: "apt-get install -y firefox-esr" }],
  webkit: [
    { envName: "WEBKIT_DRIVER_PATH", install: "apt-get install -y webkit2gtk-driver" },
    { envName: "WEBKIT_MINIBROWSER", install: "apt-get install -y webkit2gtk-driver" },
    { envName: "XVFB_PATH", install: "apt-get install -y xvfb" },
  ],
};

let stack: Stack;
/** An https server on the app's site (127.0.0.1, another port) that sets a plain third-party cookie. */
let probe: Server;
let probeUrl: string;

beforeAll(async () => {
  stack = await startStack({ tls: true });
  const { key, cert } = ensureLocalCertificate();
  probe = createServer({ key, cert }, (req, res) => {
    const headers: Record<string, string> = { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" };
    if (req.url?.startsWith("/set?")) headers["Set-Cookie"] = `probe=${new URL(req.url, "https://x").searchParams.get("v")}; Path=/; Secure; SameSite=None`;
    res.writeHead(200, headers).end("<!doctype html><title>probe</title>");
  });
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  probeUrl = `https://127.0.0.1:${(probe.address() as AddressInfo).port}`;
});

afterAll(async () => {
  probe?.closeAllConnections();
  await new Promise<void>((resolve) => (probe ? probe.close(() => resolve()) : resolve()));
  await stack?.close();
});

describe("the https stack", () => {
  it("serves the app on https://127.0.0.1 and the partner pages on http://localhost; appFetch trusts its certificate", async () => {
    expect(stack.appUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(stack.harnessUrl).toMatch(/^http:\/\/localhost:\d+$/);
    const response = await stack.appFetch("/healthz");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
    await expect(fetch(`${stack.appUrl}/healthz`)).rejects.toThrow(); // the global fetch does not trust it
  });
});

describe("a missing prerequisite", () => {
  it.each(ENGINE_VARIANTS)("%s refuses to launch without its binaries, saying how to install them", async (variant) => {
    for (const { envName, install } of PREREQUISITES[variant]) {
      const saved = { [envName]: process.env[envName], DISPLAY: process.env.DISPLAY };
      process.env[envName] = "/nonexistent/binary";
      delete process.env.DISPLAY; // so that WebKit needs Xvfb
      try {
        const launched = launchEngine(variant);
        await expect(launched).rejects.toThrow(EngineUnavailableError);
        await expect(launched).rejects.toThrow(`not found at /nonexistent/binary: install it: ${install} (or set ${envName})`);
      } finally {
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
    }
  });
});

describe.each(ENGINE_VARIANTS)("%s", (variant) => {
  const world = engineWorld(variant);

  it("keeps cookies and storage within a profile across pages; a new profile starts empty", async () => {
    const { profile } = world;
    const marker = randomBytes(6).toString("hex");
    await openHarnessPage(profile, stack);
    await profile.evaluate(`(localStorage.setItem("marker", "${marker}"), document.cookie = "marker=${marker}; Path=/")`);
    await profile.open(`${stack.evilUrl}/harness`);
    await openHarnessPage(profile, stack);
    expect(await profile.evaluate("localStorage.getItem('marker')")).toBe(marker);
    expect((await profile.cookies()).map((c) => `${c.name}=${c.value}`)).toEqual([`marker=${marker}`]);
    // Values travel as JSON: the same shapes from every engine.
    expect(await profile.evaluate("Promise.resolve({ n: 1, list: [true, null], nothing: undefined })")).toEqual({ n: 1, list: [true, null] });
    expect(await profile.evaluate("undefined")).toBeUndefined();
    await expect(profile.evaluate("missingFunction()")).rejects.toThrow(/missingFunction/);
    await expect(profile.evaluateInFrame("1", "#no-such-frame")).rejects.toThrow(`[${variant}] no frame in #no-such-frame`);
    await expect(profile.waitFor("document.title === 'never'", { timeout: 200 })).rejects.toThrow(
      `[${variant}] waitFor timed out after 200 ms: document.title === 'never'`,
    );

    const fresh = await world.engine.newProfile();
    try {
      await openHarnessPage(fresh, stack);
      expect(await fresh.evaluate("localStorage.getItem('marker')")).toBeNull();
      expect(await fresh.cookies()).toEqual([]);
    } finally {
      await fresh.close();
    }
  });

  it(`applies its default rules in a cross-site frame: plain cookie ${THIRD_PARTY_COOKIES[variant]}, storage partitioned`, async () => {
    const { profile } = world;
    const value = randomBytes(6).toString("hex");
    await openHarnessPage(profile, stack);
    await profile.evaluate(`new Promise((resolve) => {
      const frame = document.createElement("iframe");
      frame.id = "probe";
      frame.onload = () => resolve(true);
      frame.src = ${JSON.stringify(`${probeUrl}/set?v=${value}`)};
      document.body.appendChild(frame);
    })`);
    const inFrame = await profile.evaluateInFrame<{ cookie: string; storage: boolean }>(
      `(() => { try { localStorage.setItem("probe", "${value}"); return { cookie: document.cookie, storage: true }; } catch { return { cookie: document.cookie, storage: false }; } })()`,
      "#probe",
    );
    await profile.open(`${probeUrl}/read`);
    const firstParty = await profile.evaluate<{ cookie: string; storage: string | null }>(`({ cookie: document.cookie, storage: localStorage.getItem("probe") })`);
    const behaviour = (keptInFrame: boolean, seenFirstParty: boolean) => (!keptInFrame ? "blocked" : seenFirstParty ? "shared" : "partitioned");
    expect({
      cookie: behaviour(inFrame.cookie.includes(`probe=${value}`), firstParty.cookie.includes(`probe=${value}`)),
      storage: behaviour(inFrame.storage, firstParty.storage === value),
    }).toEqual({ cookie: THIRD_PARTY_COOKIES[variant], storage: "partitioned" });
  });

  const frameSelector = "#a iframe";
  const frameText = (id: string) => world.profile.evaluateInFrame<string | null>(`document.getElementById(${JSON.stringify(id)})?.textContent ?? null`, frameSelector);
  /** Wait until the frame shows the workspace at `path` for the user called `name`. */
  const waitForWorkspace = (path: string, name: string) =>
    world.profile.waitFor(
      `location.pathname.endsWith(${JSON.stringify(`/app${path}`)}) && document.getElementById("name")?.textContent === ${JSON.stringify(name)} && !document.getElementById("workspace")?.hidden`,
      { frame: frameSelector },
    );
  const handle = (key: string, call: string) => world.profile.evaluate(`(harness.handles[${JSON.stringify(key)}].${call}, true)`);

  it("first sign-in lands on firstRunPath; a returning user on the requested path; navigation keeps the session", async () => {
    const { profile } = world;
    await openHarnessPage(profile, stack);
    const user = newUser("Frances Allen");
    await mountEmbed(profile, { key: "a", container: "#a", user, initialPath: "/dashboard" });
    const first = await waitForEmbedEvent(profile, "a", ["authenticated", "error", "authRequired"]);
    expect(first).toEqual({ type: "authenticated", firstRun: true, storage: "frame" });
    expect((await embedEvents(profile, "a"))[0]?.type).toBe("ready");
    await waitForWorkspace(FIRST_RUN_PATH, "Frances Allen");
    // The frame really is the https app (the self-signed certificate was accepted, no error page).
    const frameUrl = new URL(await profile.evaluateInFrame<string>("location.href", frameSelector));
    expect(frameUrl.origin).toBe(stack.appUrl);
    expect(frameUrl.pathname).toBe(`/embed/${PARTNER_ID}/app${FIRST_RUN_PATH}`);

    await handle("a", `navigate("/reports")`);
    await profile.waitFor(`harness.events.a.some((e) => e.type === "navigate" && e.path === "/reports")`);
    await waitForWorkspace("/reports", "Frances Allen");
    expect(await frameText("partner")).toBe(PARTNER_ID);
    expect(await frameText("sub")).toBe(user.sub);

    // The same user in a new mount: a returning user, on the path the page asked for.
    await mountEmbed(profile, { key: "b", container: "#a", user, initialPath: "/dashboard" });
    expect(await waitForEmbedEvent(profile, "b", ["authenticated", "error", "authRequired"])).toEqual({
      type: "authenticated",
      firstRun: false,
      storage: "frame",
    });
    await waitForWorkspace("/dashboard", "Frances Allen");
    // Nothing of Jupid's in the partner page's own cookie jar; no STORAGE_BLOCKED anywhere.
    expect(await profile.cookies()).toEqual([]);
    expect([...(await embedEvents(profile, "a")), ...(await embedEvents(profile, "b"))].filter((e) => e.type === "error")).toEqual([]);
  });

  it("signOut() ends the session: authRequired in the page, a signed-out state in the frame", async () => {
    const { profile } = world;
    await openHarnessPage(profile, stack);
    await mountEmbed(profile, { key: "a", container: "#a" });
    await waitForEmbedEvent(profile, "a", ["authenticated", "error"]);
    await handle("a", "signOut()");
    const ended = await waitForEmbedEvent(profile, "a", "authRequired");
    expect(ended).toMatchObject({ type: "authRequired", code: "SESSION_REQUIRED" });
    await profile.waitFor(`document.getElementById("state")?.textContent === "You have signed out of Jupid."`, { frame: frameSelector });
    expect(await profile.evaluateInFrame("sessionStorage.length", frameSelector)).toBe(0);
  });

  it("user A, then user B on the same profile without signOut(): B is signed in as B, never as A", async () => {
    const { profile } = world;
    await openHarnessPage(profile, stack);
    const alice = newUser("Alice Ames");
    await mountEmbed(profile, { key: "a", container: "#a", user: alice });
    await waitForEmbedEvent(profile, "a", ["authenticated", "error"]);
    await waitForWorkspace(FIRST_RUN_PATH, "Alice Ames");
    // Alice's partner session ends without signOut(); Bob logs in to the partner app in the same browser.
    await openHarnessPage(profile, stack);
    const bob = newUser("Bob Brown");
    await mountEmbed(profile, { key: "b", container: "#a", user: bob });
    expect(await waitForEmbedEvent(profile, "b", ["authenticated", "error"])).toMatchObject({ type: "authenticated", firstRun: true });
    await waitForWorkspace(FIRST_RUN_PATH, "Bob Brown");
    expect(await frameText("sub")).toBe(bob.sub);
    expect(await profile.evaluate("harness.tokenCalls")).toBe(1);
  });

  it("the host page finds the credential nowhere: its storage, its cookies, every message, every URL", async () => {
    const { profile } = world;
    await openHarnessPage(profile, stack);
    await mountEmbed(profile, { key: "a", container: "#a" });
    await waitForEmbedEvent(profile, "a", ["authenticated", "error"]);
    const stored = await profile.evaluateInFrame<string[]>(`Object.values({ ...sessionStorage }).map((v) => JSON.parse(v).credential)`, frameSelector);
    expect(stored).toHaveLength(1);
    const credential = stored[0] as string;
    expect(credential).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const host = await profile.evaluate<Record<string, string>>(`({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookie: document.cookie,
      messages: JSON.stringify(harness.messages),
      urls: JSON.stringify([location.href, ...performance.getEntries().map((e) => e.name), ...[...document.querySelectorAll("iframe")].map((f) => f.src + " " + f.name)]),
      html: document.documentElement.outerHTML,
    })`);
    for (const [where, text] of Object.entries(host)) expect(text, where).not.toContain(credential);
    const messages = await hostMessages(profile);
    expect(messages.length).toBeGreaterThan(2);
    // Everything the page heard came from the app's frame.
    expect(new Set(messages.map((m) => m.origin))).toEqual(new Set([stack.appUrl]));
    const frameUrls = await profile.evaluateInFrame<string>(`JSON.stringify([location.href, ...performance.getEntries().map((e) => e.name)])`, frameSelector);
    expect(frameUrls).not.toContain(credential);
    expect(await profile.cookies()).toEqual([]);
  });
});
