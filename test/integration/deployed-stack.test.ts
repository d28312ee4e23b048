/**
 * The real CDK app's `JupidEmbed-integration` stack (config/partners.integration.json),
 * deployed with the pinned CDK CLI into whatever AWS_ENDPOINT_URL names (the
 * MiniStack the global setup starts, or a LocalStack/MiniStack given to it;
 * with no endpoint at all the suite would use the stack's real URLs), then
 * driven over HTTP through API Gateway exactly as browsers,
 * partner servers and the Jupid app would: tokens are signed with the partner
 * secrets read back from Secrets Manager, and the rows the functions wrote are
 * read back from DynamoDB.
 *
 * Nothing here knows which emulator it talks to. Every failure prints a
 * deployment report: stack status, outputs and resources, the functions'
 * recent logs and the emulator's log tail. Emulator gaps and how to run this
 * elsewhere: the README (Integration tests).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateSecretCommand } from "@aws-sdk/client-secrets-manager";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  type EnvironmentConfig,
  loadEnvironmentConfig,
  type PartnerConfig,
  type PartnerConfigInput,
  partnerSchema,
  partnersFile,
} from "../../config/schema.ts";
import { sessionCookieName } from "../../lambdas/http/cookies.ts";
import { embedPageCsp, enterPageCsp, frameAncestors, workspacePageCsp } from "../../lambdas/http/csp.ts";
import { burst, figures, infrastructureFailures, pause, THROTTLE_REFILL_MS } from "./support/burst.ts";
import { deployStack, ENVIRONMENT, type StepTiming, WORK_DIR } from "./support/cdk.ts";
import { DeployedData, partnerToken, uniqueSub } from "./support/data.ts";
import { apiBaseUrl, aws, deploymentReport, readStack, type StackOutputs } from "./support/deployment.ts";
import { dpopKey, type TestDpopKey } from "../fixtures/dpop.ts";
import { Api, type ApiResponse, cookieAttributes, cookieValue, summary } from "./support/http.ts";
import { startTestProvider, TestBrowser, type TestProvider } from "../support/oidc-provider.ts";

const CONFIG: EnvironmentConfig = loadEnvironmentConfig(partnersFile(ENVIRONMENT));
const COOKIE = sessionCookieName(CONFIG);
const suiteStarted = Date.now();
const timings: StepTiming[] = [];

function configured(id: string): PartnerConfig {
  const partner = CONFIG.partners.find((candidate) => candidate.id === id);
  if (!partner) throw new Error(`${partnersFile(ENVIRONMENT)} has no partner ${id}; the suite expects it`);
  return partner;
}
const ALPHA = configured("it-alpha");
const BETA = configured("it-beta");
const DISABLED = configured("it-disabled");
/** The partner the redeploy test adds (and then removes again). */
const ADDED_ID = "it-added";

let outputs: StackOutputs;
let api: Api;
let data: DeployedData;

beforeAll(async () => {
  try {
    timings.push(...(await deployStack({ label: "initial", bootstrap: true })));
    ({ outputs } = await readStack());
  } catch (error) {
    console.error(await deploymentReport(suiteStarted));
    throw error;
  }
  api = new Api(apiBaseUrl(outputs), await aws().secrets.config.region());
  data = new DeployedData(outputs);
  console.log(figures("deploy", Object.fromEntries(timings.map((timing) => [timing.step, `${timing.seconds}s`]))));
  console.log(`[integration] API ${api.baseUrl}`);
});

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    console.error(await deploymentReport(suiteStarted));
  });
});

afterAll(() => {
  const total = Math.round((Date.now() - suiteStarted) / 1000);
  console.log(figures("timings", { ...Object.fromEntries(timings.map((t) => [t.step, `${t.seconds}s`])), suite: `${total}s` }));
});

// --- helpers -------------------------------------------------------------------------------

const cookieHeader = (sessionId: string) => `${COOKIE}=${sessionId}`;

/**
 * The frame's DPoP key. Proofs name the URL the browser calls — appUrl, through the
 * edge — which is what the gateway checks `htu` against, whichever URL this suite
 * reaches the API at.
 */
let frameKeyPromise: Promise<TestDpopKey> | undefined;
const frameKey = () => {
  frameKeyPromise ??= dpopKey();
  return frameKeyPromise;
};
const browserUrl = (path: string) => `${CONFIG.appUrl}${path}`;

/** A request with the frame session, as the workspace library makes it. */
async function frameRequest(method: string, partnerId: string, credential: string): Promise<ApiResponse> {
  const path = `/embed/${partnerId}/session`;
  return api.request(method, path, { headers: await (await frameKey()).headers(method, browserUrl(path), credential) });
}

interface SignInOptions {
  readonly sub: string;
  readonly secret: string;
  readonly jti?: string;
  readonly initialPath?: string;
  readonly parentOrigin?: string;
  readonly headers?: Record<string, string>;
}

/** The iframe sign-in: the frame posts the partner's token to /embed/{id}/session. */
function postSession(partner: Pick<PartnerConfig, "id" | "allowedOrigins">, options: SignInOptions): Promise<ApiResponse> {
  const { token } = partnerToken(partner.id, options.secret, { sub: options.sub, ...(options.jti ? { jti: options.jti } : {}) });
  return postToken(partner, token, options);
}

async function postToken(
  partner: Pick<PartnerConfig, "id" | "allowedOrigins">,
  token: string,
  options: Omit<SignInOptions, "sub" | "secret"> = {},
): Promise<ApiResponse> {
  const path = `/embed/${partner.id}/session`;
  return api.request("POST", path, {
    json: {
      token,
      parentOrigin: options.parentOrigin ?? partner.allowedOrigins[0],
      ...(options.initialPath ? { initialPath: options.initialPath } : {}),
    },
    headers: { dpop: await (await frameKey()).proof("POST", browserUrl(path)), ...options.headers },
  });
}

/** The frame session credential of a sign-in answer. */
function credentialOf(response: ApiResponse): string {
  const value = response.json<{ session?: string }>().session;
  if (!value) throw new Error(`no session credential in the answer (${summary(response)})`);
  return value;
}

/** The top-level (redirect entry) session from its cookie. */
function sessionIdOf(response: ApiResponse): string {
  const value = cookieValue(response, COOKIE);
  if (!value) throw new Error(`no ${COOKIE} cookie in ${JSON.stringify(response.setCookies)} (${summary(response)})`);
  return value;
}

const app = (path: string) => `${CONFIG.workspaceBasePath}${path}`;
const framed = (partnerId: string, path: string) => `/embed/${partnerId}/app${path}`;

// --- the deployment itself -----------------------------------------------------------------

describe("deployment", () => {
  test("the stack is deployed and the custom resource wrote every configured partner into the partners table", async () => {
    const { status } = await readStack();
    expect(status).toMatch(/^(CREATE|UPDATE)_COMPLETE$/);
    for (const partner of CONFIG.partners) {
      expect(await data.partnerRecord(partner.id), `partner record ${partner.id}`).toEqual(partner);
      // Created by the stack, value generated by Secrets Manager (>= 32 characters, the core's minimum).
      const key = await data.partnerKey(partner.id);
      expect(key.value.length, `length of the generated key of ${partner.id}`).toBeGreaterThanOrEqual(32);
    }
  });

  test("GET /healthz answers through API Gateway", async () => {
    const response = await api.request("GET", "/healthz");
    expect(response.status, summary(response)).toBe(200);
    expect(response.json()).toEqual({ status: "ok", environment: ENVIRONMENT });
  });
});

// --- the embed page ------------------------------------------------------------------------

describe("GET /embed/{partnerId}", () => {
  test.each([ALPHA, BETA, DISABLED])("$id: framed only by its own origins (CSP from config), never cached", async (partner) => {
    const response = await api.request("GET", `/embed/${partner.id}`);
    expect(response.status, summary(response)).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const csp = response.headers.get("content-security-policy");
    expect(csp).toBe(embedPageCsp(partner.allowedOrigins));
    expect(csp).toContain(`frame-ancestors ${partner.allowedOrigins.join(" ")}`);
  });

  test("an unknown partner gets a 404 that nobody may frame", async () => {
    for (const id of ["it-nobody", "Not_An_Id"]) {
      const response = await api.request("GET", `/embed/${id}`);
      expect(response.status, `${id}: ${summary(response)}`).toBe(404);
      expect(response.headers.get("content-security-policy")).toContain(frameAncestors([]));
    }
  });
});

describe("GET /embed/{partnerId}/embeddable (diagnostics)", () => {
  test("answers from the deployed partner records, cacheable and readable by any site; a bad origin is a 400", async () => {
    const ask = (id: string, origin: string) => api.request("GET", `/embed/${id}/embeddable?origin=${encodeURIComponent(origin)}`);
    const allowed = ALPHA.allowedOrigins[0] as string;
    const cases: [string, string, Record<string, string>][] = [
      [ALPHA.id, allowed, { partner: "known", origin: "allowed" }],
      [ALPHA.id, "https://not-allowed.example", { partner: "known", origin: "not-allowed" }],
      [DISABLED.id, DISABLED.allowedOrigins[0] as string, { partner: "disabled", origin: "allowed" }],
      ["it-nobody", allowed, { partner: "unknown", origin: "not-allowed" }],
    ];
    for (const [id, origin, expected] of cases) {
      const response = await ask(id, origin);
      expect(response.status, summary(response)).toBe(200);
      expect(response.json()).toEqual({ ...expected, environment: "integration" });
      expect(response.headers.get("cache-control")).toBe("public, max-age=60");
      expect(response.headers.get("access-control-allow-origin")).toBe("*");
    }
    const bad = await ask(ALPHA.id, `${allowed}/path`);
    expect([bad.status, bad.errorCode], summary(bad)).toEqual([400, "BAD_REQUEST"]);
  });
});

// --- iframe sign-in ------------------------------------------------------------------------

describe("POST /embed/{partnerId}/session", () => {
  const sub = uniqueSub("first");
  let userId: string;
  let sessionId: string;

  test("a first login creates the user and its mapping row, stores a hashed session and routes to firstRunPath", async () => {
    const key = await data.partnerKey(ALPHA.id);
    const before = Math.floor(Date.now() / 1000);
    const response = await postSession(ALPHA, { sub, secret: key.value, initialPath: "/reports" });
    expect(response.status, summary(response)).toBe(200);
    const body = response.json<{ redirectTo: string; firstRun: boolean; view: { expiresAt: string } }>();
    expect(body.firstRun).toBe(true);
    expect(body.redirectTo).toBe(framed(ALPHA.id, ALPHA.firstRunPath));
    const expiresAt = Date.parse(body.view.expiresAt) / 1000;
    expect(expiresAt).toBeGreaterThanOrEqual(before + CONFIG.sessionLifetimeSeconds - 5);
    expect(expiresAt).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + CONFIG.sessionLifetimeSeconds + 5);

    sessionId = credentialOf(response);
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The frame keeps the session itself: no cookie on the iframe path.
    expect(response.setCookies).toEqual([]);

    const mapping = await data.mapping(ALPHA.id, sub);
    expect(mapping?.userId?.S, "mapping row MAP#it-alpha/<sub>").toMatch(/^usr_[a-f0-9]{32}$/);
    userId = mapping?.userId?.S as string;
    const user = await data.user(userId);
    expect(user?.partnerId?.S).toBe(ALPHA.id);
    expect(user?.sub?.S).toBe(sub);
    expect(user?.email?.S).toBe("ada@example.com");

    // Only the SHA-256 of the credential is stored, with the thumbprint of the frame's key.
    const session = await data.session(sessionId);
    expect(session?.jkt?.S).toBe((await frameKey()).jkt);
    expect(session?.userId?.S).toBe(userId);
    expect(session?.partnerId?.S).toBe(ALPHA.id);
    expect(session?.shell?.S).toBe(ALPHA.shell.mode);
    expect(session?.chat?.BOOL).toBe(ALPHA.shell.chat);
    expect(JSON.stringify(session)).not.toContain(sessionId);
  });

  test("the framed workspace shell is public, framed by the partner's origins; its data needs the credential and a proof", async () => {
    const shell = await api.request("GET", framed(ALPHA.id, "/dashboard"));
    expect(shell.status, summary(shell)).toBe(200);
    expect(shell.headers.get("content-security-policy")).toBe(workspacePageCsp(ALPHA.allowedOrigins));
    expect(shell.text).toContain(`<dd id="path">/dashboard</dd>`);
    expect(shell.text).not.toContain(userId);

    const view = await frameRequest("GET", ALPHA.id, sessionId);
    expect(view.status, summary(view)).toBe(200);
    expect(view.json()).toMatchObject({ view: { user: { userId, sub }, partner: { id: ALPHA.id }, shell: ALPHA.shell.mode } });
    const bare = await api.request("GET", `/embed/${ALPHA.id}/session`, { headers: { authorization: `DPoP ${sessionId}` } });
    expect([bare.status, bare.errorCode]).toEqual([401, "DPOP_PROOF_INVALID"]);
    const thief = await dpopKey();
    const stolen = await api.request("GET", `/embed/${ALPHA.id}/session`, {
      headers: await thief.headers("GET", browserUrl(`/embed/${ALPHA.id}/session`), sessionId),
    });
    expect([stolen.status, stolen.errorCode]).toEqual([401, "DPOP_PROOF_INVALID"]);
  });

  test("a returning user is routed to the requested path and keeps the same user", async () => {
    const key = await data.partnerKey(ALPHA.id);
    const response = await postSession(ALPHA, { sub, secret: key.value, initialPath: "/reports" });
    expect(response.status, summary(response)).toBe(200);
    expect(response.json()).toMatchObject({ firstRun: false, redirectTo: framed(ALPHA.id, "/reports") });
    expect((await data.mapping(ALPHA.id, sub))?.userId?.S).toBe(userId);
    expect(await data.mappingCount(ALPHA.id, sub)).toBe(1);
    expect((await data.usersFor(ALPHA.id, sub)).length).toBe(1);
    expect((await data.session(credentialOf(response)))?.userId?.S).toBe(userId);
  });

  test("DELETE with the frame session signs out; the credential is dead afterwards", async () => {
    const none = await api.request("GET", `/embed/${ALPHA.id}/session`);
    expect(none.status, summary(none)).toBe(401);
    expect(none.errorCode).toBe("SESSION_REQUIRED");

    const out = await frameRequest("DELETE", ALPHA.id, sessionId);
    expect(out.status, summary(out)).toBe(204);
    expect(await data.session(sessionId), "session row after sign-out").toBeUndefined();

    const after = await frameRequest("GET", ALPHA.id, sessionId);
    expect(after.errorCode, summary(after)).toBe("SESSION_REQUIRED");
  });

  test("refused sign-ins keep their status and code through API Gateway and write nothing", async () => {
    const alphaKey = (await data.partnerKey(ALPHA.id)).value;
    const betaKey = (await data.partnerKey(BETA.id)).value;
    const cases: { name: string; partner: PartnerConfig; options: SignInOptions; status: number; code: string }[] = [
      {
        name: "token signed with another key",
        partner: ALPHA,
        options: { sub: uniqueSub("badkey"), secret: randomBytes(32).toString("hex") },
        status: 401,
        code: "TOKEN_SIGNATURE_INVALID",
      },
      {
        name: "parent page origin not allowed",
        partner: ALPHA,
        options: { sub: uniqueSub("origin"), secret: alphaKey, parentOrigin: "https://evil.example" },
        status: 403,
        code: "ORIGIN_NOT_ALLOWED",
      },
      {
        name: "POST not from the Jupid frame",
        partner: ALPHA,
        options: { sub: uniqueSub("foreign"), secret: alphaKey, headers: { origin: "https://evil.example" } },
        status: 403,
        code: "ORIGIN_NOT_ALLOWED",
      },
      {
        name: "initialPath outside allowedPaths",
        partner: BETA,
        options: { sub: uniqueSub("path"), secret: betaKey, initialPath: "/settings" },
        status: 403,
        code: "PATH_NOT_ALLOWED",
      },
      {
        name: "token of another partner",
        partner: BETA,
        options: { sub: uniqueSub("issuer"), secret: alphaKey },
        status: 401,
        code: "TOKEN_SIGNATURE_INVALID",
      },
    ];
    for (const { name, partner, options, status, code } of cases) {
      const response = await postSession(partner, options);
      expect({ name, status: response.status, code: response.errorCode }, summary(response)).toEqual({ name, status, code });
      expect(await data.mapping(partner.id, options.sub), `${name}: no mapping written`).toBeUndefined();
    }
    const unknown = await api.request("POST", "/embed/it-nobody/session", { json: { token: "x", parentOrigin: "http://localhost:3000" } });
    expect([unknown.status, unknown.errorCode]).toEqual([404, "PARTNER_NOT_FOUND"]);
  });
});

// --- redirect integration ------------------------------------------------------------------

describe("/partner/{partnerId}/enter", () => {
  test("GET without a token serves the entry page: not framable, not cached, no referrer", async () => {
    const response = await api.request("GET", `/partner/${ALPHA.id}/enter`);
    expect(response.status, summary(response)).toBe(200);
    expect(response.headers.get("content-security-policy")).toBe(enterPageCsp());
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.text).toContain(`action="/partner/${ALPHA.id}/enter"`);
  });

  test("a form post signs in with a 303 to the workspace: firstRunPath first, then the requested path", async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const sub = uniqueSub("enter");
    const post = (path: string) =>
      api.request("POST", `/partner/${ALPHA.id}/enter`, {
        form: { token: partnerToken(ALPHA.id, key, { sub }).token, path },
        headers: { origin: ALPHA.allowedOrigins[0] as string },
      });

    const first = await post("/dashboard");
    expect(first.status, summary(first)).toBe(303);
    expect(first.headers.get("location")).toBe(app(ALPHA.firstRunPath));
    const sessionId = sessionIdOf(first);
    // Top level only: a first-party cookie, never sent by other sites' requests.
    expect(cookieAttributes(first, COOKIE)).toEqual(expect.arrayContaining(["path=/", "secure", "httponly", "samesite=lax"]));
    const userId = (await data.mapping(ALPHA.id, sub))?.userId?.S;
    expect((await data.session(sessionId))?.userId?.S).toBe(userId);

    const again = await post("/dashboard");
    expect(again.status, summary(again)).toBe(303);
    expect(again.headers.get("location")).toBe(app("/dashboard"));

    const workspace = await api.request("GET", app("/dashboard"), { cookie: cookieHeader(sessionIdOf(again)) });
    expect(workspace.status, summary(workspace)).toBe(200);
    expect(workspace.text).toContain(`<dd id="user">${userId}</dd>`);
  });

  test("GET ?token= is accepted but answered with a 303 to a URL without the token", async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const { token } = partnerToken(ALPHA.id, key, { sub: uniqueSub("enter-get") });
    // Opened from the partner's page: its origin in the Referer (else a confirmation page, issue 12).
    const response = await api.request("GET", `/partner/${ALPHA.id}/enter?token=${encodeURIComponent(token)}&path=/budget`, {
      headers: { referer: `${ALPHA.allowedOrigins[0]}/books` },
    });
    expect(response.status, summary(response)).toBe(303);
    const location = response.headers.get("location") ?? "";
    expect(location).toBe(app(ALPHA.firstRunPath));
    expect(location).not.toContain(token);
    sessionIdOf(response);
  });

  test("a browser whose token is refused gets an HTML page naming the code", async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const { token } = partnerToken(ALPHA.id, key, { sub: uniqueSub("enter-replay") });
    const form = { token, path: "/dashboard" };
    const origin = ALPHA.allowedOrigins[0] as string;
    const first = await api.request("POST", `/partner/${ALPHA.id}/enter`, { form, headers: { origin } });
    expect(first.status, summary(first)).toBe(303);
    const replay = await api.request("POST", `/partner/${ALPHA.id}/enter`, { form, headers: { origin, accept: "text/html" } });
    expect(replay.status, summary(replay)).toBe(401);
    expect(replay.headers.get("content-type")).toMatch(/^text\/html/);
    expect(replay.text).toContain('<code id="code">TOKEN_REPLAYED</code>');
  });
});

// --- internal routes -----------------------------------------------------------------------

describe("/internal/* (IAM-authorised)", () => {
  test("unsigned calls are refused by API Gateway before any function runs", async () => {
    const calls: [string, string, unknown][] = [
      ["POST", "/internal/sessions/resolve", { sessionId: "x" }],
      ["POST", "/internal/usage", { userId: "x" }],
      ["GET", "/internal/entitlements/usr_00000000000000000000000000000000", undefined],
    ];
    for (const [method, path, json] of calls) {
      const response = await api.request(method, path, json === undefined ? {} : { json });
      expect(response.status, `${method} ${path}: ${summary(response)}`).toBe(403);
      // API Gateway's own answer, not one of the gateway's error codes.
      expect(response.errorCode).toBeUndefined();
    }
  });

  test("a signed caller resolves a session and counts usage against the partner's free limit", async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const sub = uniqueSub("internal");
    const signIn = await postSession(ALPHA, { sub, secret: key });
    expect(signIn.status, summary(signIn)).toBe(200);
    const credential = credentialOf(signIn);
    const userId = (await data.mapping(ALPHA.id, sub))?.userId?.S as string;

    // What the Jupid app's backend does: forward the browser's credential, proof, method and URL.
    const resolveFrame = async () => {
      const url = browserUrl("/api/reports");
      const proof = await (await frameKey()).proof("GET", url, { credential });
      return api.request("POST", "/internal/sessions/resolve", { json: { credential, proof, method: "GET", url }, signed: true });
    };
    const resolved = await resolveFrame();
    expect(resolved.status, summary(resolved)).toBe(200);
    expect(resolved.json()).toMatchObject({
      userId,
      partnerId: ALPHA.id,
      shell: ALPHA.shell.mode,
      chat: ALPHA.shell.chat,
      branding: ALPHA.branding,
    });

    const { metric, threshold } = ALPHA.freeLimit;
    const one = await api.request("POST", "/internal/usage", { json: { userId, amount: 1 }, signed: true });
    expect(one.status, summary(one)).toBe(200);
    expect(one.json()).toEqual({ metric, used: 1, limit: threshold, remaining: threshold - 1, paywall: false });
    const rest = await api.request("POST", "/internal/usage", { json: { userId, metric, amount: threshold - 1 }, signed: true });
    expect(rest.json()).toEqual({ metric, used: threshold, limit: threshold, remaining: 0, paywall: true });
    const read = await api.request("GET", `/internal/entitlements/${userId}?metric=${metric}`, { signed: true });
    expect(read.status, summary(read)).toBe(200);
    expect(read.json()).toEqual({ metric, used: threshold, limit: threshold, remaining: 0, paywall: true });
    expect((await data.usage(userId, metric))?.used?.N).toBe(String(threshold));

    const wrongMetric = await api.request("POST", "/internal/usage", { json: { userId, metric: "other" }, signed: true });
    expect([wrongMetric.status, wrongMetric.errorCode]).toEqual([400, "BAD_REQUEST"]);

    const bare = await api.request("POST", "/internal/sessions/resolve", { json: { sessionId: credential }, signed: true });
    expect([bare.status, bare.errorCode]).toEqual([401, "DPOP_PROOF_INVALID"]);

    await frameRequest("DELETE", ALPHA.id, credential);
    const gone = await resolveFrame();
    expect([gone.status, gone.errorCode]).toEqual([401, "SESSION_REQUIRED"]);
  });
});

// --- concurrency ---------------------------------------------------------------------------

describe("concurrency", () => {
  const RACE = 100;
  const REPLAY = 50;

  beforeAll(async () => {
    // Warm up as many execution environments of the session function as the
    // largest burst needs, with requests that read the partner and its keys
    // and are then refused (bad signature), so nothing is written. The bursts
    // below then test the gateway's guarantees, not how fast a 2-core CI
    // machine cold-starts 100 Node processes (an emulator runs each Lambda
    // execution environment as a local process, and 100 cold starts at once
    // can outlast the function timeout). Waves of growing size keep at most a
    // third of them starting at the same time. Harmless against AWS.
    const wrong = randomBytes(32).toString("hex");
    const waves = [Math.ceil(RACE / 3), Math.ceil((2 * RACE) / 3), RACE];
    try {
      for (const size of waves) {
        await pause(1_000);
        const requests = Array.from({ length: size }, () => () => postSession(ALPHA, { sub: uniqueSub("warm"), secret: wrong }));
        const warm = await burst(requests);
        // Not asserted: a cold-start storm on a busy host may time out a request or two; the bursts below are.
        console.log(figures("warm-up", { requests: size, wallMs: warm.wallMs, ...warm.tally }));
      }
    } catch (error) {
      console.error(await deploymentReport(suiteStarted));
      throw error;
    }
  });

  test(`replay: ${REPLAY} concurrent submits of one token give exactly one session`, async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const sub = uniqueSub("replay");
    const { token, jti } = partnerToken(ALPHA.id, key, { sub });
    await pause(THROTTLE_REFILL_MS);
    const result = await burst(Array.from({ length: REPLAY }, () => () => postToken(ALPHA, token)));
    const successes = result.responses.filter((response) => response.status === 200);
    const replayed = result.responses.filter((response) => response.errorCode === "TOKEN_REPLAYED");
    console.log(
      figures("replay", {
        requests: REPLAY,
        successes: successes.length,
        replayed: replayed.length,
        duplicates: Math.max(0, successes.length - 1),
        wallMs: result.wallMs,
      }),
    );
    expect(infrastructureFailures(result).map(summary), "throttled or failed requests").toEqual([]);
    expect(result.tally).toEqual({ "200": 1, "401 TOKEN_REPLAYED": REPLAY - 1 });

    const row = await data.replayRow(ALPHA.id, jti);
    expect(row, `replay row ${ALPHA.id}#${jti}`).toBeDefined();
    expect(Number(row?.expiresAt?.N)).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect(await data.mappingCount(ALPHA.id, sub)).toBe(1);
    expect((await data.usersFor(ALPHA.id, sub)).length).toBe(1);
  });

  test(`race: ${RACE} concurrent first logins of one user create one user, one mapping and no orphans`, async () => {
    const key = (await data.partnerKey(ALPHA.id)).value;
    const sub = uniqueSub("race");
    const requests = Array.from({ length: RACE }, () => {
      const { token } = partnerToken(ALPHA.id, key, { sub });
      return () => postToken(ALPHA, token);
    });
    await pause(THROTTLE_REFILL_MS);
    const result = await burst(requests);
    const successes = result.responses.filter((response) => response.status === 200);
    const firstRuns = successes.filter((response) => response.json<{ firstRun: boolean }>().firstRun);

    const mappingRows = await data.mappingCount(ALPHA.id, sub);
    const mappedUser = (await data.mapping(ALPHA.id, sub))?.userId?.S;
    const users = await data.usersFor(ALPHA.id, sub);
    const sessions = await data.sessions(successes.map(credentialOf));
    const sessionUsers = new Set(sessions.map((session) => session.userId?.S));
    const orphans = users.filter((user) => user.pk?.S !== `USER#${mappedUser}`).length;
    console.log(
      figures("race", {
        requests: RACE,
        successes: successes.length,
        firstRun: firstRuns.length,
        users: users.length,
        mappings: mappingRows,
        sessions: sessions.length,
        sessionUsers: sessionUsers.size,
        duplicates: Math.max(0, users.length - 1),
        orphans,
        wallMs: result.wallMs,
      }),
    );
    expect(infrastructureFailures(result).map(summary), "throttled or failed requests").toEqual([]);
    expect(result.tally).toEqual({ "200": RACE });
    expect(firstRuns.length, "exactly one first run").toBe(1);
    expect(mappingRows).toBe(1);
    expect(users.map((user) => user.pk?.S)).toEqual([`USER#${mappedUser}`]);
    expect(orphans).toBe(0);
    expect(sessions.length).toBe(RACE);
    expect([...sessionUsers]).toEqual([mappedUser]);
  });
});

// --- key rotation --------------------------------------------------------------------------

describe("partner secret rotation", () => {
  test("the previous key is accepted during the overlap and rejected once the overlap ends", async () => {
    // cacheSeconds is 0 in this config: every request reads the keys, so no wait for a cache.
    expect(CONFIG.cacheSeconds).toBe(0);
    const previous = await data.partnerKey(BETA.id);
    const signIn = (secret: string) => postSession(BETA, { sub: uniqueSub("rotation"), secret });
    const baseline = await signIn(previous.value);
    expect(baseline.status, summary(baseline)).toBe(200);

    const current = await data.rotate(BETA.id);
    const stages = await data.versionStages(BETA.id);
    expect(stages[current.versionId]).toContain("AWSCURRENT");
    expect(stages[previous.versionId]).toContain("AWSPREVIOUS");

    const oldDuringOverlap = await signIn(previous.value);
    const newDuringOverlap = await signIn(current.value);
    expect(oldDuringOverlap.status, `previous key during the overlap: ${summary(oldDuringOverlap)}`).toBe(200);
    expect(newDuringOverlap.status, `current key: ${summary(newDuringOverlap)}`).toBe(200);

    expect(await data.endOverlap(BETA.id)).toBe(previous.versionId);
    const oldAfter = await signIn(previous.value);
    const newAfter = await signIn(current.value);
    console.log(
      figures("rotation", {
        previousDuringOverlap: oldDuringOverlap.status,
        currentDuringOverlap: newDuringOverlap.status,
        previousAfterOverlap: `${oldAfter.status}:${oldAfter.errorCode ?? ""}`,
        currentAfterOverlap: newAfter.status,
      }),
    );
    expect([oldAfter.status, oldAfter.errorCode], `previous key after the overlap: ${summary(oldAfter)}`).toEqual([
      401,
      "TOKEN_SIGNATURE_INVALID",
    ]);
    expect(newAfter.status, summary(newAfter)).toBe(200);
  });
});

// --- disabled partner ----------------------------------------------------------------------

describe("a disabled partner", () => {
  test("keeps its page (so the frame can report why) but every sign-in is refused with PARTNER_DISABLED", async () => {
    expect(DISABLED.enabled).toBe(false);
    const key = (await data.partnerKey(DISABLED.id)).value;
    const sub = uniqueSub("disabled");
    const session = await postSession(DISABLED, { sub, secret: key });
    expect([session.status, session.errorCode], summary(session)).toEqual([403, "PARTNER_DISABLED"]);
    const enter = await api.request("POST", `/partner/${DISABLED.id}/enter`, {
      form: { token: partnerToken(DISABLED.id, key, { sub }).token, path: "/" },
    });
    expect([enter.status, enter.errorCode], summary(enter)).toEqual([403, "PARTNER_DISABLED"]);
    expect(await data.mapping(DISABLED.id, sub)).toBeUndefined();
  });
});

// --- config change + redeploy --------------------------------------------------------------

describe("partner config change + redeploy", () => {
  let added: PartnerConfigInput = {
    id: ADDED_ID,
    displayName: "Integration Added",
    allowedOrigins: ["http://localhost:3003"],
    branding: { displayName: "Added", primaryColor: "#b45309" },
    shell: { mode: "full", chat: false },
    freeLimit: { metric: "transactions", threshold: 2 },
  };
  // The added partner signs users in through its own OpenID provider too: a real one, on loopback.
  let provider: TestProvider | undefined;
  const oidcSecretId = `${ADDED_ID}/oidc-client`;
  afterAll(async () => {
    await provider?.close();
  });
  const extraBetaOrigin = "http://127.0.0.1:3001";

  test("a partner added to the config file (and an origin added to another) is live after a redeploy", async () => {
    // A partner secret is retained when its partner leaves the config; one left
    // behind by an interrupted earlier run against a shared endpoint would
    // block creating it again.
    if (await data.secretExists(ADDED_ID)) await data.forceDeleteSecret(ADDED_ID);
    await data.forceDeleteSecret(oidcSecretId);
    provider = await startTestProvider({ appUrl: CONFIG.appUrl, partnerId: ADDED_ID });
    added = { ...added, oidc: { issuer: provider.issuer, clientId: provider.clientId } };

    const changed = {
      ...CONFIG,
      partners: [
        ...CONFIG.partners.map((partner) =>
          partner.id === BETA.id ? { ...partner, allowedOrigins: [...partner.allowedOrigins, extraBetaOrigin] } : partner,
        ),
        added,
      ],
    };
    mkdirSync(WORK_DIR, { recursive: true });
    const file = join(WORK_DIR, `partners.${ENVIRONMENT}.added.json`);
    writeFileSync(file, `${JSON.stringify(changed, null, 2)}\n`);
    // A failing deploy fails the test, which prints the deployment report (beforeEach above).
    timings.push(...(await deployStack({ label: "added", partnersFile: file })));
    const redeployed = (await readStack()).outputs;
    expect(redeployed.ApiId, "the API is updated in place").toBe(outputs.ApiId);

    const expected = partnerSchema.parse(added);
    expect(await data.partnerRecord(ADDED_ID)).toEqual(expected);
    const page = await api.request("GET", `/embed/${ADDED_ID}`);
    expect(page.status, summary(page)).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe(embedPageCsp(expected.allowedOrigins));
    const betaPage = await api.request("GET", `/embed/${BETA.id}`);
    expect(betaPage.headers.get("content-security-policy")).toBe(embedPageCsp([...BETA.allowedOrigins, extraBetaOrigin]));

    const key = await data.partnerKey(ADDED_ID);
    expect(key.value.length).toBeGreaterThanOrEqual(32);
    const signIn = await postSession(expected, { sub: uniqueSub("added"), secret: key.value });
    expect(signIn.status, summary(signIn)).toBe(200);
    expect(signIn.json()).toMatchObject({ firstRun: true, redirectTo: framed(ADDED_ID, expected.firstRunPath) });
  }, 600_000);

  test("its OIDC entrypoint signs a user in through the provider, and back-channel logout ends the session", async () => {
    if (!provider) throw new Error("the previous test did not start the provider");
    await aws().secrets.send(new CreateSecretCommand({ Name: data.secretName(oidcSecretId), SecretString: provider.clientSecret }));
    try {
      const sub = uniqueSub("oidc");
      const login = await api.request("GET", `/partner/${ADDED_ID}/oidc/login?${new URLSearchParams({ iss: provider.issuer, target_link_uri: "/dashboard" })}`);
      expect(login.status, summary(login)).toBe(303);
      const transaction = cookieValue(login, `jupid_oidc_${ADDED_ID}`);
      expect(transaction).toBeDefined();
      // The provider sends the browser to the configured appUrl; the same request goes to the deployed API.
      provider.nextLogin = sub;
      const { url } = await new TestBrowser().navigate(login.headers.get("location") as string, {}, (next) => next.pathname.endsWith("/oidc/callback"));
      const callback = await api.request("GET", `/partner/${ADDED_ID}/oidc/callback${new URL(url).search}`, { cookie: `jupid_oidc_${ADDED_ID}=${transaction}` });
      expect(callback.status, summary(callback)).toBe(303);
      expect(callback.headers.get("location")).toBe(app(partnerSchema.parse(added).firstRunPath));
      const sessionId = cookieValue(callback, COOKIE) as string;
      expect(await data.session(sessionId)).toBeDefined();
      expect(await data.mapping(ADDED_ID, `oidc:${sub}`)).toBeDefined();

      const now = Math.floor(Date.now() / 1000);
      const logoutToken = await provider.sign({
        iss: provider.issuer,
        aud: provider.clientId,
        sub,
        iat: now,
        exp: now + 120,
        jti: randomBytes(12).toString("hex"),
        events: { "http://schemas.openid.net/event/backchannel-logout": {} },
      });
      const logout = await api.request("POST", `/partner/${ADDED_ID}/oidc/backchannel-logout`, { form: { logout_token: logoutToken } });
      expect([logout.status, logout.json()], summary(logout)).toEqual([200, { ended: 1 }]);
      expect(await data.session(sessionId)).toBeUndefined();
    } finally {
      await data.forceDeleteSecret(oidcSecretId);
    }
  }, 120_000);

  test("removing it again disables it on redeploy and keeps its secret until it is retired on purpose", async () => {
    timings.push(...(await deployStack({ label: "restored" })));
    expect((await data.partnerRecord(ADDED_ID))?.enabled, "record of the removed partner").toBe(false);
    const betaPage = await api.request("GET", `/embed/${BETA.id}`);
    expect(betaPage.headers.get("content-security-policy")).toBe(embedPageCsp(BETA.allowedOrigins));

    expect(await data.secretExists(ADDED_ID), "the removed partner's secret is retained").toBe(true);
    const key = (await data.partnerKey(ADDED_ID)).value;
    const refused = await postSession({ id: ADDED_ID, allowedOrigins: added.allowedOrigins }, { sub: uniqueSub("removed"), secret: key });
    expect([refused.status, refused.errorCode], summary(refused)).toEqual([403, "PARTNER_DISABLED"]);

    // Retire it, as the README (Deploying) describes, so that the next run can add it again.
    await data.forceDeleteSecret(ADDED_ID);
    expect(await data.secretExists(ADDED_ID)).toBe(false);
  }, 600_000);
});
