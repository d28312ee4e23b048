/**
 * A minimal W3C WebDriver (classic, HTTP) client: the handful of commands
 * the WebKit driver needs, over fetch. https://www.w3.org/TR/webdriver2/
 */

/** A WebDriver error response (`{value: {error, message}}`). */
export class WebDriverError extends Error {
  override readonly name = "WebDriverError";
  constructor(
    readonly error: string,
    message: string,
    readonly command: string,
  ) {
    super(`${command}: ${error}: ${message}`);
  }
}

/** The key W3C WebDriver uses for an element reference in JSON. */
const ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf";

export interface WebDriverCookie {
  readonly name: string;
  readonly value: string;
  readonly domain?: string;
  readonly path?: string;
  readonly secure?: boolean;
  readonly httpOnly?: boolean;
  readonly sameSite?: string;
}

/** Longer than the session's script and page-load timeouts (30 s), so the driver's own timeout error wins. */
const COMMAND_TIMEOUT_MS = 60_000;

async function call<T>(baseUrl: string, method: string, path: string, body?: unknown, timeoutMs = COMMAND_TIMEOUT_MS): Promise<T> {
  const command = `${method} ${path.replace(/\/session\/[^/]+/, "/session/{id}")}`;
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === "TimeoutError";
    throw new WebDriverError(timedOut ? "timeout" : "unreachable", timedOut ? `no answer within ${timeoutMs} ms` : String(error), command);
  }
  const text = await response.text();
  let parsed: { value?: unknown };
  try {
    parsed = JSON.parse(text) as { value?: unknown };
  } catch {
    throw new WebDriverError("invalid response", `HTTP ${response.status} ${text.slice(0, 200)}`, command);
  }
  const value = parsed.value as { error?: string; message?: string } | null | undefined;
  if (!response.ok || (value && typeof value === "object" && typeof value.error === "string")) {
    throw new WebDriverError(value?.error ?? `HTTP ${response.status}`, value?.message ?? text.slice(0, 200), command);
  }
  return parsed.value as T;
}

/** The driver's readiness (`GET /status`); false while it is not listening yet. */
export async function driverReady(baseUrl: string): Promise<boolean> {
  try {
    return (await call<{ ready?: boolean }>(baseUrl, "GET", "/status")).ready === true;
  } catch {
    return false;
  }
}

/** One WebDriver session (one browser instance for WebKitWebDriver). */
export class WebDriverSession {
  private constructor(
    private readonly baseUrl: string,
    readonly id: string,
    readonly capabilities: Readonly<Record<string, unknown>>,
  ) {}

  /** New Session with `alwaysMatch` capabilities. */
  static async start(baseUrl: string, capabilities: Readonly<Record<string, unknown>>, timeoutMs?: number): Promise<WebDriverSession> {
    const created = await call<{ sessionId: string; capabilities: Record<string, unknown> }>(
      baseUrl,
      "POST",
      "/session",
      { capabilities: { alwaysMatch: capabilities } },
      timeoutMs,
    );
    return new WebDriverSession(baseUrl, created.sessionId, created.capabilities);
  }

  private command<T>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(this.baseUrl, method, `/session/${this.id}${path}`, body);
  }

  /** Navigate the top-level browsing context; returns after the load (page load strategy "normal"). */
  async navigate(url: string): Promise<void> {
    await this.command("POST", "/url", { url });
  }

  async setTimeouts(timeouts: { script?: number; pageLoad?: number; implicit?: number }): Promise<void> {
    await this.command("POST", "/timeouts", timeouts);
  }

  /** Execute Script: `body` is a function body; a returned promise is awaited by the driver. */
  executeScript<T>(body: string, args: readonly unknown[] = []): Promise<T> {
    return this.command<T>("POST", "/execute/sync", { script: body, args });
  }

  /** Find Element by CSS selector in the current browsing context; the element reference. */
  async findElement(selector: string): Promise<string> {
    const found = await this.command<Record<string, string>>("POST", "/element", { using: "css selector", value: selector });
    const reference = found[ELEMENT_KEY];
    if (!reference) throw new WebDriverError("no such element", selector, "POST /session/{id}/element");
    return reference;
  }

  /** Switch To Frame: an iframe element's reference, or `null` for the top-level browsing context. */
  async switchToFrame(element: string | null): Promise<void> {
    await this.command("POST", "/frame", { id: element === null ? null : { [ELEMENT_KEY]: element } });
  }

  /** Get All Cookies of the current browsing context's document. */
  cookies(): Promise<WebDriverCookie[]> {
    return this.command<WebDriverCookie[]>("GET", "/cookie");
  }

  /** Delete Session (the driver closes the browser). */
  async delete(): Promise<void> {
    await this.command("DELETE", "");
  }
}
