/**
 * Summarise a V8 .cpuprofile (written by `node --cpu-prof`): where the
 * gateway process spent its samples, by function (self time) and by module.
 * Used with `npm run bench -- --profile` to back a hypothesis with data.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Group a script URL into a readable module name. */
function moduleOf(url: string): string {
  if (!url) return "(native/V8)";
  if (url.startsWith("node:")) return url;
  const modules = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (modules) return `npm:${modules[1]}`;
  const repo = url.match(/\/(lambdas|config|bench|test)\/(.+)$/);
  return repo ? `${repo[1]}/${repo[2]}` : url;
}

/** Top `limit` functions by self time, then the top modules, as printable lines. */
export function summarizeProfile(file: string, limit = 15): string[] {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    total += delta;
  });
  // Inclusive time of our own functions (lambdas/, config/): each sample counts once for every distinct one on its stack.
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      const module = frame ? moduleOf(frame.url) : "";
      if (!frame || !/^(lambdas|config)\//.test(module)) continue;
      const key = `${frame.functionName || "(anonymous)"}  ${module}:${frame.lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
      }
    }
  });
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const module = moduleOf(frame.url);
    const name = `${frame.functionName || "(anonymous)"}  ${module}:${frame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / Math.max(1, total)).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `${pct(us)}  ${name}`);
  return [
    `profile ${file}: ${(total / 1e6).toFixed(1)} s of samples`,
    "self time by function:",
    ...top(byFunction, limit),
    "self time by module:",
    ...top(byModule, 10),
    "total (inclusive) time of our functions:",
    ...top(inclusive, limit),
  ];
}
