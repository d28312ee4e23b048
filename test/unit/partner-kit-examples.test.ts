/**
 * The partner kit's token-endpoint examples (sdk/examples/*), each run the way
 * a partner would run it, and each token turned into a session by the local
 * gateway (real node:http, real handlers, the real clock the examples use).
 *
 * Django: the example runs for real in a project-local venv
 * (.cache/partner-kit-venv, PyJWT + Django pinned below) when python3 can
 * create one; its algorithm and claims are also checked statically, which is
 * all that is possible on a machine without Python.
 */
import { postFrameSignIn } from "../fixtures/dpop.ts";
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { setLogSink } from "../../lambdas/http/logger.ts";
import { type RunningGateway, startGateway } from "../../lambdas/local/gateway.ts";
import { REPO_ROOT } from "../../lib/operator/environment.ts";
import { embedTokenRoute, type TokenResponse } from "../../sdk/examples/express/embed-token.ts";
import { partnerInput, testEnvironment } from "../fixtures/partners.ts";
import { TEST_SECRET } from "../fixtures/tokens.ts";

const run = promisify(execFile);
const PARTNER_ID = "acme-books";
const PARTNER_ORIGIN = "http://localhost:3000";
const EXAMPLES = join(REPO_ROOT, "sdk", "examples");

vi.mock("../../sdk/examples/nextjs/lib/session.ts", () => ({
  getSignedInUser: async (request: Request) =>
    request.headers.get("cookie") === "session=valid" ? { id: "next-user-1", email: "grace@example.com", name: "Grace Hopper" } : undefined,
}));

let gateway: RunningGateway;

beforeAll(async () => {
  setLogSink(() => {});
  gateway = await startGateway({
    config: testEnvironment([partnerInput(PARTNER_ID, { allowedOrigins: [PARTNER_ORIGIN] })]),
    secrets: { [PARTNER_ID]: TEST_SECRET },
    port: 0,
  });
});

afterAll(async () => {
  await gateway?.close();
});

/** What the partner's page does with the token: hand it to the frame, which posts it to the gateway. */
async function signInWith(token: string) {
  const response = await postFrameSignIn(gateway.url, PARTNER_ID, { token, parentOrigin: PARTNER_ORIGIN, initialPath: "/dashboard" });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function expectFirstLogin(token: string, sub: string) {
  const claims = decodeJwt(token);
  expect(decodeProtectedHeader(token)).toMatchObject({ alg: "HS256", typ: "JWT" });
  expect(claims).toMatchObject({ iss: PARTNER_ID, aud: "jupid-embed", sub });
  expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
  const session = await signInWith(token);
  expect(session.status).toBe(200);
  expect(session.body).toMatchObject({ redirectTo: `/embed/${PARTNER_ID}/app/onboarding/connect-accounts`, firstRun: true });
  expect(session.body.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
  // Single use: the same token a second time is refused.
  expect((await signInWith(token)).body).toMatchObject({ error: { code: "TOKEN_REPLAYED" } });
  const user = await gateway.memory!.identities.getUser((await gateway.memory!.identities.findUserId(PARTNER_ID, sub))!);
  return user;
}

function fakeResponse() {
  const recorded = { status: 0, headers: {} as Record<string, string>, body: undefined as unknown };
  const res: TokenResponse = {
    status(code) {
      recorded.status = code;
      return res;
    },
    set(field, value) {
      recorded.headers[field.toLowerCase()] = value;
      return res;
    },
    json(body) {
      recorded.body = body;
      return res;
    },
  };
  return { res, recorded };
}

describe("Express example (sdk/examples/express)", () => {
  const route = embedTokenRoute<{ user?: { id: string; email: string; displayName: string } }>({
    partnerId: PARTNER_ID,
    secret: TEST_SECRET,
    currentUser: (req) => req.user && { id: req.user.id, email: req.user.email, name: req.user.displayName, payload: { plan: "pro" } },
  });

  it("mints a token for the signed-in user that the gateway turns into a session", async () => {
    const { res, recorded } = fakeResponse();
    await route({ user: { id: "express-user-1", email: "ada@example.com", displayName: "Ada" } }, res);
    expect(recorded.status).toBe(200);
    expect(recorded.headers["cache-control"]).toBe("no-store");
    const { token } = recorded.body as { token: string };
    const user = await expectFirstLogin(token, "express-user-1");
    expect(user).toMatchObject({ email: "ada@example.com", name: "Ada", payload: { plan: "pro" } });
  });

  it("answers 500 without details when the secret is misconfigured", async () => {
    const broken = embedTokenRoute({ partnerId: PARTNER_ID, secret: "too-short", currentUser: () => ({ id: "u" }) });
    const { res, recorded } = fakeResponse();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    let calls: unknown[][] = [];
    try {
      await broken({}, res);
      calls = [...logged.mock.calls];
    } finally {
      logged.mockRestore();
    }
    expect(recorded).toMatchObject({ status: 500, body: { error: "could not mint a Jupid token" } });
    expect(calls).toEqual([[expect.stringContaining("at least 32 bytes")]]);
    expect(JSON.stringify(calls)).not.toContain("too-short");
  });

  it("answers 401 without a signed-in user and mints nothing", async () => {
    const { res, recorded } = fakeResponse();
    await route({}, res);
    expect(recorded).toMatchObject({ status: 401, headers: { "cache-control": "no-store" }, body: { error: "not signed in" } });
  });
});

describe("Next.js route handler example (sdk/examples/nextjs)", () => {
  it("GET mints a token for the signed-in user that the gateway turns into a session", async () => {
    vi.stubEnv("JUPID_PARTNER_ID", PARTNER_ID);
    vi.stubEnv("JUPID_EMBED_SECRET", TEST_SECRET);
    try {
      const { GET, dynamic } = await import("../../sdk/examples/nextjs/app/api/jupid/embed-token/route.ts");
      expect(dynamic).toBe("force-dynamic");
      const response = await GET(new Request(`${PARTNER_ORIGIN}/api/jupid/embed-token`, { headers: { cookie: "session=valid" } }));
      expect(response.status).toBe(200);
      expect(response.headers.get("cache-control")).toBe("no-store");
      const { token } = (await response.json()) as { token: string };
      const user = await expectFirstLogin(token, "next-user-1");
      expect(user).toMatchObject({ email: "grace@example.com", name: "Grace Hopper" });

      const anonymous = await GET(new Request(`${PARTNER_ORIGIN}/api/jupid/embed-token`));
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toEqual({ error: "not signed in" });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it("fails loudly when the secret is not configured", async () => {
    vi.stubEnv("JUPID_PARTNER_ID", PARTNER_ID);
    vi.stubEnv("JUPID_EMBED_SECRET", "");
    try {
      const { GET } = await import("../../sdk/examples/nextjs/app/api/jupid/embed-token/route.ts");
      await expect(GET(new Request(`${PARTNER_ORIGIN}/x`, { headers: { cookie: "session=valid" } }))).rejects.toThrow(/JUPID_EMBED_SECRET is not set/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Django (PyJWT)

const PYTHON_REQUIREMENTS = ["pyjwt==2.15.1", "django==5.2.8"];
const VENV = join(REPO_ROOT, ".cache", "partner-kit-venv");
const VENV_PYTHON = join(VENV, "bin", "python");
const MARKER = join(VENV, "jupid-requirements.txt");

/** A venv with the pinned PyJWT and Django, created once and reused; undefined (with the reason) if this machine cannot. */
async function ensurePythonVenv(): Promise<{ python?: string; reason?: string }> {
  if (existsSync(MARKER) && readFileSync(MARKER, "utf8") === PYTHON_REQUIREMENTS.join("\n") && existsSync(VENV_PYTHON)) {
    return { python: VENV_PYTHON };
  }
  try {
    await run(process.env.PYTHON ?? "python3", ["-m", "venv", "--clear", VENV], { timeout: 120_000 });
    await run(VENV_PYTHON, ["-m", "pip", "install", "--disable-pip-version-check", "--quiet", ...PYTHON_REQUIREMENTS], {
      timeout: 400_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    writeFileSync(MARKER, PYTHON_REQUIREMENTS.join("\n"));
    return { python: VENV_PYTHON };
  } catch (error) {
    return { reason: (error as Error).message.split("\n")[0] };
  }
}

/** Runs the example's view and page with Django's RequestFactory; prints one JSON line per response. */
const DJANGO_DRIVER = `
import json, os, re, sys
sys.path.insert(0, os.environ["EXAMPLE_DIR"])
import django
from django.conf import settings
settings.configure(
    DEBUG=False,
    SECRET_KEY="test-only",
    ALLOWED_HOSTS=["*"],
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [os.path.join(os.environ["EXAMPLE_DIR"], "templates")]}],
    JUPID_PARTNER_ID=os.environ["JUPID_PARTNER_ID"],
    JUPID_EMBED_SECRET=os.environ["JUPID_EMBED_SECRET"],
    JUPID_APP_URL=os.environ["JUPID_APP_URL"],
)
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from jupid_embed import views

class PartnerUser:
    pk = 4711
    email = "linus@example.com"
    is_authenticated = True
    is_active = True
    def get_full_name(self): return "Linus Example"
    def get_username(self): return "linus"

factory = RequestFactory()
request = factory.get("/api/jupid/embed-token")
request.user = PartnerUser()
response = views.embed_token(request)
print(json.dumps({"status": response.status_code, "cache": response.get("Cache-Control"), "body": json.loads(response.content)}))

anonymous = factory.get("/api/jupid/embed-token")
anonymous.user = AnonymousUser()
response = views.embed_token(anonymous)
print(json.dumps({"status": response.status_code, "body": json.loads(response.content)}))

page = factory.get("/finance/")
page.user = PartnerUser()
response = views.finance_page(page)
html = response.content.decode()
print(json.dumps({"status": response.status_code, "token": re.search(r'token: "([^"]+)"', html).group(1), "appUrl": re.search(r'<script src="([^"]+)"', html).group(1)}))
`;

describe("Django example (sdk/examples/django, PyJWT)", () => {
  const tokensPy = readFileSync(join(EXAMPLES, "django", "jupid_embed", "tokens.py"), "utf8");
  let venv: { python?: string; reason?: string } = {};

  beforeAll(async () => {
    venv = await ensurePythonVenv();
  }, 600_000);

  it("signs HS256 with the secret string and exactly the claims the gateway checks (static check)", () => {
    expect(tokensPy).toMatch(/jwt\.encode\(claims, secret, algorithm="HS256", headers=\{"typ": "JWT"\}\)/);
    expect(tokensPy).toMatch(/^JUPID_AUDIENCE = "jupid-embed"$/m);
    expect(tokensPy).toMatch(/"aud": JUPID_AUDIENCE/);
    expect(tokensPy).toMatch(/"iss": partner_id/);
    expect(tokensPy).toMatch(/"sub": str\(user_id\)/);
    expect(tokensPy).toMatch(/issued_at = int\(/); // whole seconds
    expect(tokensPy).toMatch(/"exp": issued_at \+ ttl_seconds/);
    expect(tokensPy).toMatch(/"jti": str\(uuid\.uuid4\(\)\)/);
    expect(tokensPy).toMatch(/^DEFAULT_TTL_SECONDS = 300\b/m);
  });

  it("its view and page, run by Django, mint tokens the gateway turns into sessions", async () => {
    if (!venv.python) {
      throw new Error(`the Django example needs python3 with venv and pip (apt-get install -y python3-venv): ${venv.reason}`);
    }
    const { stdout } = await run(venv.python, ["-c", DJANGO_DRIVER], {
      timeout: 60_000,
      env: {
        ...process.env,
        EXAMPLE_DIR: join(EXAMPLES, "django"),
        JUPID_PARTNER_ID: PARTNER_ID,
        JUPID_EMBED_SECRET: TEST_SECRET,
        JUPID_APP_URL: gateway.url,
        PYTHONDONTWRITEBYTECODE: "1",
      },
    });
    const [endpoint, anonymous, page] = stdout.trim().split("\n").map((line) => JSON.parse(line));
    expect(endpoint.status).toBe(200);
    expect(endpoint.cache).toContain("no-store");
    const user = await expectFirstLogin(endpoint.body.token, "4711");
    expect(user).toMatchObject({ email: "linus@example.com", name: "Linus Example" });

    expect(anonymous).toEqual({ status: 401, body: { error: "not signed in" } });

    expect(page.status).toBe(200);
    expect(page.appUrl).toBe(`${gateway.url}/embed.js`);
    // The token rendered into the page (escapejs turns "-" into \u002D) is, as the browser reads the
    // JS string literal, the token itself, and it signs in (a returning user now).
    const fromPage = JSON.parse(`"${page.token}"`) as string;
    const session = await signInWith(fromPage);
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ redirectTo: `/embed/${PARTNER_ID}/app/dashboard`, firstRun: false });
  });
});
