/** Helpers shared by the scripts that run inside Jupid pages (bootstrap and workspace bridge). */
import { type FrameMessage, type FrameName, MESSAGE_PREFIX, parentOriginOf, parseFrameName } from "../protocol.ts";

/** The JSON the page renderer put into `<script type="application/json" id="jupid-config">`. */
export function readConfig<T>(): T {
  return JSON.parse(document.getElementById("jupid-config")?.textContent ?? "{}") as T;
}

type Payload<M> = M extends { type: `jupid:${string}` } ? Omit<M, "type" | "embedId"> : never;

export interface ParentChannel {
  readonly name: FrameName;
  readonly origin: string;
  post<K extends FrameMessage["type"]>(type: K, payload: Payload<Extract<FrameMessage, { type: K }>>): void;
  /** Calls `fn` for messages from our parent window, from its verified origin, for our embed id only. */
  listen(fn: (data: { type: string } & Record<string, unknown>) => void): void;
}

/**
 * The channel to the partner page, or undefined when this page is not inside
 * an SDK-created frame of an allowed origin (then the page stays passive).
 */
export function parentChannel(allowedOrigins: readonly string[]): ParentChannel | undefined {
  if (window.parent === window) return undefined;
  const name = parseFrameName(window.name);
  if (!name) return undefined;
  const origin = parentOriginOf(location.ancestorOrigins?.[0], name.origin, allowedOrigins);
  if (!origin) return undefined;
  return {
    name,
    origin,
    post: (type, payload) => window.parent.postMessage({ type, embedId: name.id, ...payload }, origin),
    listen: (fn) =>
      addEventListener("message", (event) => {
        const data = event.data;
        if (
          event.source === window.parent &&
          event.origin === origin &&
          data?.embedId === name.id &&
          typeof data.type === "string" &&
          data.type.startsWith(MESSAGE_PREFIX)
        ) {
          fn(data);
        }
      }),
  };
}
