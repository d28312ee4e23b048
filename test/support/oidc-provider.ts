/**
 * Test side of the OIDC harness: the provider itself lives in
 * lambdas/local/oidc-provider.ts (npm start uses it too); here is a
 * cookie-keeping client that walks redirects like a browser.
 */
export {
  type LocalAccount as TestAccount,
  type LocalProvider as TestProvider,
  type LocalProviderOptions as TestProviderOptions,
  startLocalProvider as startTestProvider,
} from "../../lambdas/local/oidc-provider.ts";

/**
 * A minimal cookie-keeping HTTP client that follows redirects the way a
 * browser navigates top-level, one jar per origin (loopback ports would share
 * cookies in a real browser; keeping them apart only removes noise).
 */
export class TestBrowser {
  private readonly jars = new Map<string, Map<string, string>>();

  cookie(origin: string, name: string): string | undefined {
    return this.jars.get(origin)?.get(name);
  }

  setCookie(origin: string, name: string, value: string | undefined): void {
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    if (value === undefined) jar.delete(name);
    else jar.set(name, value);
    this.jars.set(origin, jar);
  }

  /** One request, no redirect following; stores Set-Cookie. */
  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const { origin } = new URL(url);
    const jar = this.jars.get(origin) ?? new Map<string, string>();
    this.jars.set(origin, jar);
    const headers = new Headers(init.headers);
    if (jar.size > 0) headers.set("cookie", [...jar].map(([n, v]) => `${n}=${v}`).join("; "));
    if (!headers.has("accept")) headers.set("accept", "text/html");
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const index = (pair ?? "").indexOf("=");
      const name = (pair ?? "").slice(0, index).trim();
      const value = (pair ?? "").slice(index + 1).trim();
      const maxAge = attributes.find((a) => a.trim().toLowerCase().startsWith("max-age="));
      const expired = /expires=thu, 01 jan 1970/i.test(line) || (maxAge !== undefined && Number(maxAge.split("=")[1]) <= 0);
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /** Follow redirects from `url` until a non-redirect answer or a URL for which `stop` is true (not requested). */
  async navigate(url: string, init: RequestInit = {}, stop: (next: URL) => boolean = () => false): Promise<{ url: string; response?: Response }> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20 && response.status >= 300 && response.status < 400; hops++) {
      const location = response.headers.get("location");
      if (!location) break;
      const next = new URL(location, current);
      await response.arrayBuffer();
      if (stop(next)) return { url: next.href };
      current = next.href;
      response = await this.request(current);
    }
    return { url: current, response };
  }
}
