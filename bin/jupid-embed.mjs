#!/usr/bin/env node
// The operator CLI's launcher (`npx jupid-embed`, `npm run cli --`). The commands
// are TypeScript under lib/operator/; tsx compiles them on the fly, so this
// file stays plain JavaScript that any Node can at least start and judge.
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  process.stderr.write(
    `jupid-embed needs Node.js >= 22 (this is ${process.version}).\n` +
      "Inside the repo run it through npm (npx jupid-embed ..., npm run cli -- ...), which puts node_modules/.bin/node (22) first on PATH.\n",
  );
  process.exit(2);
}
const { register } = await import("tsx/esm/api");
register();
const { main } = await import("../lib/operator/main.ts");
process.exitCode = await main(process.argv.slice(2));
