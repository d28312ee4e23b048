/**
 * Issue 12, finding 1 (login CSRF on the redirect entry), in headless
 * Chromium: a page on an origin the partner does not allow sends the victim
 * to the enter link with the attacker's token. The victim sees "Continue to
 * Jupid as <attacker> from <partner>?" and nothing exists until they click;
 * the same link opened from the partner's own page signs in at once.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { BRAND_NAME, FIRST_RUN_PATH, PARTNER_ID } from "./support.ts";
// Imported under another name: the linter reads `use…` calls as React hooks.
import { useBrowserWorld as browserWorld } from "./world.ts";

const world = browserWorld();

/** Open `origin`'s test page, then navigate top-level to `url` from it (so the browser sends that origin as referrer). */
async function navigateFrom(origin: string, url: string): Promise<Page> {
  const page = await world.context.newPage();
  await page.goto(`${origin}/harness`);
  await page.evaluate((target) => {
    location.href = target;
  }, url);
  return page;
}

async function sessionCookies(): Promise<string[]> {
  return (await world.context.cookies(world.stack.appUrl)).filter((c) => c.name === "jupid_session").map((c) => c.value);
}

function attacker() {
  const sub = `mallory-${Math.random().toString(36).slice(2)}`;
  return { sub, token: world.stack.token(PARTNER_ID, { sub, name: "Mallory Attacker", email: "mallory@evil.example" }) };
}

const enterLink = (token: string) => `${world.stack.appUrl}/partner/${PARTNER_ID}/enter#token=${token}&path=/reports`;

describe("redirect entry started on a foreign site", () => {
  it("shows the confirmation page and creates no session; the click signs in", async () => {
    const { sub, token } = attacker();
    const page = await navigateFrom(world.stack.evilUrl, enterLink(token));
    await page.waitForSelector("#question");
    expect(await page.textContent("#question")).toBe(`Continue to Jupid as Mallory Attacker mallory@evil.example from ${BRAND_NAME}?`);
    expect(await page.isVisible("#unverified")).toBe(true);
    expect(page.url()).toBe(`${world.stack.appUrl}/partner/${PARTNER_ID}/enter`);
    expect(page.url()).not.toContain(token);
    expect(await sessionCookies()).toEqual([]);
    expect(await world.stack.gateway.memory?.identities.findUserId(PARTNER_ID, sub)).toBeUndefined();

    await page.click("#continue");
    await page.waitForURL(`${world.stack.appUrl}/app/**`);
    expect(page.url()).toBe(`${world.stack.appUrl}/app${FIRST_RUN_PATH}`);
    expect(await page.textContent("#name")).toBe("Mallory Attacker");
    expect(await sessionCookies()).toHaveLength(1);
    expect(await world.stack.gateway.memory?.identities.findUserId(PARTNER_ID, sub)).toBeDefined();
  });

  it("a form on a foreign site posting the token is refused (ORIGIN_NOT_ALLOWED), nothing created", async () => {
    const { sub, token } = attacker();
    const page = await world.context.newPage();
    await page.goto(`${world.stack.evilUrl}/harness`);
    await page.evaluate(
      ({ action, value }) => {
        const form = document.createElement("form");
        form.method = "post";
        form.action = action;
        const input = document.createElement("input");
        input.name = "token";
        input.value = value;
        form.append(input);
        document.body.append(form);
        form.submit();
      },
      { action: `${world.stack.appUrl}/partner/${PARTNER_ID}/enter`, value: token },
    );
    await page.waitForSelector("#code");
    expect(await page.textContent("#code")).toBe("ORIGIN_NOT_ALLOWED");
    expect(await sessionCookies()).toEqual([]);
    expect(await world.stack.gateway.memory?.identities.findUserId(PARTNER_ID, sub)).toBeUndefined();
  });

  it("a victim's live session is left alone until they confirm replacing it", async () => {
    const victim = await navigateFrom(world.stack.harnessUrl, enterLink(world.stack.token(PARTNER_ID, { name: "Victor Victim" })));
    await victim.waitForURL(`${world.stack.appUrl}/app/**`);
    const [victimCookie] = await sessionCookies();

    const { token } = attacker();
    const page = await navigateFrom(world.stack.evilUrl, enterLink(token));
    await page.waitForSelector("#question");
    expect(await page.textContent("#replaces")).toContain("You are signed in to Jupid as Victor Victim");
    expect(await sessionCookies()).toEqual([victimCookie]);
    await victim.reload();
    expect(await victim.textContent("#name")).toBe("Victor Victim");
  });
});

describe("redirect entry started on the partner's own page", () => {
  it("signs in at once: one POST, no confirmation page", async () => {
    const posted: string[] = [];
    const page = await world.context.newPage();
    page.on("request", (request) => {
      if (request.method() === "POST") posted.push(request.url());
    });
    await page.goto(`${world.stack.harnessUrl}/harness`);
    await page.evaluate((target) => {
      location.href = target;
    }, enterLink(world.stack.token(PARTNER_ID, { name: "Partner User" })));
    await page.waitForURL(`${world.stack.appUrl}/app/**`);
    expect(await page.textContent("#name")).toBe("Partner User");
    expect(posted).toEqual([`${world.stack.appUrl}/partner/${PARTNER_ID}/enter`]);
  });
});
