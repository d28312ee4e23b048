/**
 * `@jupid/embed/react`: the Jupid workspace as a React component and a hook,
 * over the ESM {@link mount} of `@jupid/embed`.
 *
 * ```tsx
 * import { JupidEmbed } from "@jupid/embed/react";
 *
 * <JupidEmbed
 *   partnerId="acme-books"
 *   getToken={() => fetch("/api/jupid/embed-token").then((r) => r.json()).then((b) => b.token)}
 *   style={{ height: "100%", minHeight: 720 }}
 *   onEvent={(event) => console.log(event)}
 * />
 * ```
 *
 * - SSR-safe: nothing touches `window` or `document` at import or render; the
 *   iframe is created in an effect, in the browser only. The server renders an
 *   empty container `<div>`.
 * - StrictMode-safe: mount, cleanup, mount creates one embed in the end (the
 *   first is destroyed, listeners and timers included).
 * - Re-mounts only when what identifies the embed changes (`partnerId`,
 *   `appUrl`, `shell`, `chat`, `autoResize`, `title`); callbacks may be inline
 *   arrow functions: the latest one is always called, none re-mounts.
 *   `initialPath` and `token` are read at mount; call `handle.navigate()` to
 *   move later.
 */
// Next.js app router: server components may render <JupidEmbed> directly (esbuild keeps the directive in dist/react.js).
"use client";

import { type CSSProperties, type ReactElement, useCallback, useEffect, useRef, useState } from "react";
import { mount } from "./index.ts";
import type { AutoResizeOptions, EmbedErrorCode, EmbedEvent, EmbedHandle, MountOptions } from "./index.ts";

/** Everything {@link mount} takes except the container, which the component/hook provides. */
export type UseJupidEmbedOptions = Omit<MountOptions, "container">;

/** Where the embed is, as its events told it. */
export type JupidEmbedStatus = "loading" | "ready" | "authenticated" | "authRequired" | "error";

export interface UseJupidEmbedResult {
  /** Put it on the container element: `<div ref={ref} />`. */
  readonly ref: (element: HTMLElement | null) => void;
  /** The live handle (`navigate`, `signOut`, `on`, ...), once mounted in the browser. */
  readonly handle: EmbedHandle | undefined;
  readonly status: JupidEmbedStatus;
  /** The last `error` event, while `status` is `error`. */
  readonly error: { readonly code: EmbedErrorCode; readonly message: string } | undefined;
}

/** Mount the Jupid workspace into the element you put `ref` on; see {@link UseJupidEmbedResult}. */
export function useJupidEmbed(options: UseJupidEmbedOptions): UseJupidEmbedResult {
  const [element, setElement] = useState<HTMLElement | null>(null);
  const [handle, setHandle] = useState<EmbedHandle>();
  const [state, setState] = useState<Pick<UseJupidEmbedResult, "status" | "error">>({ status: "loading", error: undefined });
  // The latest options, for the callbacks and for what is read only at mount.
  const latest = useRef(options);
  latest.current = options;
  const { partnerId, appUrl, shell, chat, title } = options;
  const resize = autoResizeKey(options.autoResize);
  const hasGetToken = options.getToken !== undefined;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the listed values are what re-mounts the embed; mount reads them (and the rest) from latest.current.
  useEffect(() => {
    if (!element) return;
    const current = latest.current;
    setState({ status: "loading", error: undefined });
    const embed = mount({
      ...current,
      container: element,
      getToken: hasGetToken ? () => (latest.current.getToken as () => Promise<string> | string)() : undefined,
      onEvent: (event: EmbedEvent) => {
        const next = statusOf(event);
        if (next) setState(next);
        latest.current.onEvent?.(event);
      },
    });
    setHandle(embed);
    return () => {
      embed.destroy();
      setHandle(undefined);
    };
  }, [element, partnerId, appUrl, shell, chat, title, resize, hasGetToken]);

  const ref = useCallback((next: HTMLElement | null) => setElement(next), []);
  return { ref, handle, ...state };
}

export interface JupidEmbedProps extends UseJupidEmbedOptions {
  /** The container's class; give it a height (e.g. `min-height: 720px`) unless `autoResize` is on. */
  readonly className?: string;
  readonly style?: CSSProperties;
  readonly id?: string;
  /** Called with the handle once mounted, and with undefined when it is destroyed. */
  readonly onHandle?: (handle: EmbedHandle | undefined) => void;
}

/** The Jupid workspace in a `<div>`; props are {@link mount}'s options (see {@link useJupidEmbed}). */
export function JupidEmbed(props: JupidEmbedProps): ReactElement {
  const { className, style, id, onHandle, ...options } = props;
  const { ref, handle } = useJupidEmbed(options);
  const onHandleRef = useRef(onHandle);
  onHandleRef.current = onHandle;
  useEffect(() => onHandleRef.current?.(handle), [handle]);
  return <div ref={ref} className={className} style={style} id={id} data-jupid-embed="" />;
}

function statusOf(event: EmbedEvent): Pick<UseJupidEmbedResult, "status" | "error"> | undefined {
  switch (event.type) {
    case "ready":
    case "authenticated":
    case "authRequired":
      return { status: event.type, error: undefined };
    case "error":
      return { status: "error", error: { code: event.code, message: event.message } };
    default:
      return undefined;
  }
}

/** autoResize as a stable dependency (an inline `{minHeight: 300}` object must not re-mount on every render). */
function autoResizeKey(value: boolean | AutoResizeOptions | undefined): string {
  return typeof value === "object" ? `${value.minHeight ?? ""}-${value.maxHeight ?? ""}` : String(value ?? false);
}
