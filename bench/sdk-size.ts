/**
 * Measurement 5: embed.js, minified + gzip, next to the embed SDKs an
 * engineer would compare it with. Every file is gzipped the same way as
 * scripts/build.ts does for ours (zlib, level 9); a peer whose published
 * browser file is not minified is first minified with esbuild the way ours
 * is (minify, no legal comments, es2020), and the notes say which.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { transform } from "esbuild";
import { REPO_ROOT } from "./lambda-bundles.ts";
import type { Measurement, Row } from "./report.ts";
import { kb, ratio } from "./stats.ts";

export const EMBED_JS = join(REPO_ROOT, "sdk", "dist", "embed.js");

interface Candidate {
  readonly id: string;
  readonly label: string;
  /** The published file a browser would load, relative to the repo. */
  readonly file: string;
  /** Whether the published file is already minified (else esbuild minifies it first). */
  readonly minified: boolean;
  readonly what: string;
}

/** The peers' published browser builds (devDependencies, pinned in package.json). */
export const PEERS: readonly Candidate[] = [
  {
    id: "superset",
    label: "@superset-ui/embedded-sdk",
    file: "node_modules/@superset-ui/embedded-sdk/bundle/index.js",
    minified: true,
    what: "its published webpack production bundle (UMD, includes switchboard and jwt-decode)",
  },
  {
    id: "stripe",
    label: "@stripe/connect-js",
    file: "node_modules/@stripe/connect-js/dist/connect.esm.js",
    minified: false,
    what: "its ESM loader; the Connect.js it injects is fetched from Stripe at run time and not counted",
  },
  {
    id: "penpal",
    label: "penpal",
    file: "node_modules/penpal/dist/penpal.min.js",
    minified: true,
    what: "its published minified IIFE (an iframe RPC library only: no auth, no sizing, no sessions)",
  },
];

export interface SizedFile {
  readonly rawBytes: number;
  readonly minBytes: number;
  readonly gzipBytes: number;
}

/** min+gzip the way scripts/build.ts measures embed.js: esbuild minify when needed, then gzip level 9. */
export async function minGzipSize(code: string, alreadyMinified: boolean): Promise<SizedFile> {
  const minified = alreadyMinified
    ? code
    : (await transform(code, { minify: true, legalComments: "none", target: "es2020", charset: "utf8", loader: "js" })).code;
  const bytes = Buffer.from(minified, "utf8");
  return { rawBytes: Buffer.byteLength(code, "utf8"), minBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

export async function measureSdkSize(): Promise<Measurement> {
  if (!existsSync(EMBED_JS)) throw new Error("sdk/dist/embed.js is missing: run `npm run build` (npm run bench does)");
  const ours = await minGzipSize(readFileSync(EMBED_JS, "utf8"), true);
  const peers = await Promise.all(
    PEERS.map(async (peer) => ({ peer, size: await minGzipSize(readFileSync(join(REPO_ROOT, peer.file), "utf8"), peer.minified) })),
  );
  const smallestPeer = peers.reduce((a, b) => (b.size.gzipBytes < a.size.gzipBytes ? b : a));
  const rows: Row[] = [
    {
      name: "embed.js min+gzip (Jupid)",
      median: kb(ours.gzipBytes),
      p99: "—",
      ratio: ratio(ours.gzipBytes, smallestPeer.size.gzipBytes, smallestPeer.peer.label),
      goal: "smallest of the set",
      pass: peers.every((p) => ours.gzipBytes < p.size.gzipBytes),
      value: ours.gzipBytes,
      unit: "bytes",
    },
    ...peers.map(({ peer, size }) => ({
      name: `embed SDK min+gzip: ${peer.label}`,
      median: kb(size.gzipBytes),
      p99: "—",
      ratio: ratio(size.gzipBytes, ours.gzipBytes, "embed.js"),
      goal: "reference",
      pass: undefined,
      value: size.gzipBytes,
      unit: "bytes" as const,
    })),
  ];
  return {
    rows,
    data: {
      gzip: "zlib level 9",
      jupid: { file: "sdk/dist/embed.js", ...ours },
      peers: Object.fromEntries(
        peers.map(({ peer, size }) => [
          peer.label,
          { file: peer.file, version: packageVersion(peer.label), minifiedByUs: !peer.minified, ...size },
        ]),
      ),
    },
    notes: [
      `embed.js: sdk/dist/embed.js as built by scripts/build.ts (esbuild IIFE, minified), ${kb(ours.minBytes)} minified; every file gzipped with zlib level 9.`,
      ...peers.map(
        ({ peer, size }) =>
          `embed SDK ${peer.label}@${packageVersion(peer.label)}: ${peer.file}, ${peer.what}; ${peer.minified ? "published minified, measured as is" : `not minified as published (${kb(size.rawBytes)}), minified with esbuild first (${kb(size.minBytes)})`}.`,
      ),
    ],
  };
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}
