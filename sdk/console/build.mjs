// Builds the console into dist/ (committed; the gateway embeds it):
//   node build.mjs          write dist/
//   node build.mjs --check  exit 1 when dist/ differs from what the sources build to
// esbuild's output is deterministic for one esbuild version (pinned in
// sdk/package.json), so the check is a byte comparison.

import { readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const check = process.argv.includes("--check");

async function bundle(entry, outfile) {
  const result = await esbuild.build({
    absWorkingDir: here,
    entryPoints: [entry],
    outfile,
    bundle: true,
    write: false,
    format: "esm",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    minify: true,
    legalComments: "none",
    charset: "utf8",
    tsconfig: join(here, "tsconfig.json"),
    logLevel: "warning",
  });
  return Buffer.from(result.outputFiles[0].contents);
}

const outputs = new Map([
  ["app.js", await bundle("src/main.ts", join(dist, "app.js"))],
  ["app.css", await bundle("src/styles.css", join(dist, "app.css"))],
  ["index.html", readFileSync(join(here, "index.html"))],
  ["favicon.svg", readFileSync(join(here, "favicon.svg"))],
]);

if (check) {
  const stale = [];
  let present = [];
  try {
    present = readdirSync(dist);
  } catch {
    present = [];
  }
  for (const [name, bytes] of outputs) {
    let committed;
    try {
      committed = readFileSync(join(dist, name));
    } catch {
      committed = undefined;
    }
    if (committed === undefined || !committed.equals(bytes)) stale.push(name);
  }
  for (const name of present) if (!outputs.has(name)) stale.push(`${name} (not built any more)`);
  if (stale.length > 0) {
    console.error(`${relative(process.cwd(), dist)} is stale against its sources: ${stale.join(", ")}. Run \`make sdk\` and commit the result.`);
    process.exit(1);
  }
  console.log(`console bundle up to date (${[...outputs.keys()].join(", ")})`);
} else {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  for (const [name, bytes] of outputs) writeFileSync(join(dist, name), bytes);
  console.log(`wrote ${[...outputs].map(([n, b]) => `${n} ${b.length} B`).join(", ")}`);
}
