// `make test-ts`: the TypeScript SDK and the browser console against a real,
// throwaway mesh, in headless Chromium (Debian's chromium driven by
// playwright-core).
//
//   node sdk/console/test/e2e.mjs [--bank target/debug/bank] [--artifacts target/ts-e2e]
//
// Steps:
//  1. checks without a mesh: the committed SDK code and console bundle are
//     not stale (buf generate / esbuild into a temp dir, compared byte for
//     byte), the SDK, the console and these tests type-check, the SDK
//     builds, and the unit tests (unit.ts) pass;
//  2. the mesh: `bank up` with its own certificates, database names
//     (`tsweb_<random>_<service>`), Redis key prefix and OS-chosen ports on
//     the developer's PostgreSQL and Redis (DATABASE_URL, REDIS_URL), so it
//     never meets a `make run` or another test; afterwards it is stopped by
//     its PID and only its own databases and keys are dropped;
//  3. in Chromium: the SDK member flow through grpc-web (with a server
//     stream), then the console's member flow and admin flow by clicks,
//     with screenshots in the artifacts directory.
// Every wait is bounded; the whole run has a deadline.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const consoleDir = resolve(here, "..");
const sdkDir = resolve(consoleDir, "..");
const repo = resolve(sdkDir, "..");
const bin = join(sdkDir, "node_modules", ".bin");

/** The whole run must end within this. */
const RUN_DEADLINE_MS = 8 * 60_000;
/** Waiting for PostgreSQL, Redis and the mesh to answer. */
const READY_TIMEOUT_MS = 90_000;
/** One browser step (a click and what it should show). */
const STEP_TIMEOUT_MS = 20_000;
/** Polls of one wait, whatever its time limit. */
const WAIT_POLLS_MAX = 1_000;
/** Stopping a process politely before it is killed. */
const STOP_GRACE_MS = 15_000;
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
];

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const bankBin = resolve(repo, arg("--bank", "target/debug/bank"));
const artifacts = resolve(repo, arg("--artifacts", "target/ts-e2e"));

function log(message) {
  console.log(`[test-ts] ${message}`);
}

function fail(message) {
  console.error(`[test-ts] FAILED: ${message}`);
  process.exit(1);
}

/** Runs a command to completion (bounded), failing the run with its output. */
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", timeout: options.timeoutMs ?? 300_000, cwd: options.cwd ?? repo, env: options.env ?? process.env });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
    fail(`${cmd} ${args.join(" ")} exited with ${result.status ?? result.signal ?? result.error}${output ? `:\n${output}` : ""}`);
  }
  return result.stdout;
}

function sameTree(a, b) {
  const list = (dir) => {
    const out = [];
    const walk = (d) => {
      for (const name of readdirSync(d).sort()) {
        const p = join(d, name);
        if (statSync(p).isDirectory()) walk(p);
        else out.push(relative(dir, p));
      }
    };
    if (existsSync(dir)) walk(dir);
    return out;
  };
  const left = list(a);
  const right = list(b);
  const differ = [];
  for (const f of new Set([...left, ...right])) {
    if (!left.includes(f) || !right.includes(f) || !readFileSync(join(a, f)).equals(readFileSync(join(b, f)))) differ.push(f);
  }
  return differ;
}

// ---------------------------------------------------------------- step 1
/**
 * buf.gen.yaml with only its protoc-gen-es plugin entry: the other languages'
 * plugins need their own tools, and this check is about the TypeScript code.
 * The entries are the "  - " items under `plugins:`.
 */
function tsOnlyTemplate(yaml) {
  const lines = yaml.split("\n");
  const at = lines.findIndex((line) => line.trim() === "plugins:");
  if (at < 0) fail("buf.gen.yaml has no plugins:");
  const entries = [];
  for (const line of lines.slice(at + 1)) {
    if (line.startsWith("  - ")) entries.push([line]);
    else if (entries.length > 0) entries.at(-1).push(line);
  }
  const ts = entries.filter((entry) => entry.join("\n").includes("protoc-gen-es"));
  if (ts.length !== 1) fail("buf.gen.yaml should have exactly one protoc-gen-es plugin entry");
  return [...lines.slice(0, at + 1), ...ts[0]].join("\n") + "\n";
}

function checksWithoutMesh() {
  if (!existsSync(join(bin, "buf")) || !existsSync(join(bin, "tsc")) || !existsSync(join(sdkDir, "node_modules", "playwright-core"))) {
    fail("the npm tools are missing: run `make sdk-tools` (npm install --prefix sdk)");
  }
  log("generated SDK code against proto/ (buf generate into a temp dir)");
  const gen = mkdtempSync(join(tmpdir(), "bank-ts-gen-"));
  try {
    const template = join(gen, "buf.gen.ts.yaml");
    writeFileSync(template, tsOnlyTemplate(readFileSync(join(repo, "buf.gen.yaml"), "utf8")));
    run(join(bin, "buf"), ["generate", "--template", template, "-o", join(gen, "out")]);
    const stale = sameTree(join(gen, "out", "sdk/ts/src/gen"), join(sdkDir, "ts/src/gen"));
    if (stale.length > 0) fail(`sdk/ts/src/gen is stale against proto/ (${stale.slice(0, 5).join(", ")}${stale.length > 5 ? ", ..." : ""}): run \`make sdk\` and commit`);
  } finally {
    rmSync(gen, { recursive: true, force: true });
  }
  log("console bundle against its sources");
  run(process.execPath, [join(consoleDir, "build.mjs"), "--check"]);
  log("type-check and build the SDK, type-check the console");
  run(join(bin, "tsc"), ["-p", join(sdkDir, "ts"), "--noEmit"]);
  run(join(bin, "tsc"), ["-p", join(sdkDir, "ts"), "--outDir", join(repo, "target", "ts-sdk")]);
  run(join(bin, "tsc"), ["-p", consoleDir]);
  run(join(bin, "tsc"), ["-p", here]);
  log("unit tests (account numbers, money, errors)");
  const unit = mkdtempSync(join(tmpdir(), "bank-ts-unit-"));
  try {
    const out = join(unit, "unit.mjs");
    run(join(bin, "esbuild"), [join(here, "unit.ts"), "--bundle", "--platform=node", "--format=esm", `--outfile=${out}`, `--tsconfig=${join(here, "tsconfig.json")}`, "--log-level=warning"]);
    run(process.execPath, ["--test", out]);
  } finally {
    rmSync(unit, { recursive: true, force: true });
  }
}

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) fail(`${CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium) as root`);
  log("installing Debian's chromium (apt-get)");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  run("apt-get", ["update", "-qq"], { env, timeoutMs: 300_000 });
  run("apt-get", ["install", "-y", "-qq", "chromium"], { env, timeoutMs: 600_000 });
  if (!existsSync(CHROMIUM)) fail(`apt-get installed chromium but ${CHROMIUM} is missing`);
}

// ---------------------------------------------------------------- processes
const children = [];

/** Starts a long-running process, its output in a log file; remembers its PID. */
function start(name, cmd, args, options = {}) {
  const logPath = join(options.logDir, `${name}.log`);
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const keep = (chunk) => {
    text += chunk;
    if (text.length > 4_000_000) text = text.slice(-2_000_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const entry = { name, child, exited: false, logPath, output: () => text };
  child.on("exit", () => {
    entry.exited = true;
    writeFileSync(logPath, text);
  });
  children.push(entry);
  return entry;
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns something truthy: at most `timeoutMs` and WAIT_POLLS_MAX polls. */
async function waitFor(what, probe, timeoutMs = READY_TIMEOUT_MS, owner) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (let attempt = 0; attempt < WAIT_POLLS_MAX && Date.now() < deadline; attempt++) {
    if (owner?.exited) throw new Error(`${what}: ${owner.name} exited early:\n${owner.output().slice(-3000)}`);
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = String(error?.message ?? error);
    }
    await sleep(Math.min(1000, 100 * (attempt + 1)));
  }
  throw new Error(`${what} not ready within ${timeoutMs / 1000} s${last ? ` (last error: ${last})` : ""}`);
}

async function stopAll() {
  for (const entry of [...children].reverse()) {
    if (entry.exited) continue;
    entry.child.kill("SIGTERM");
    const deadline = Date.now() + STOP_GRACE_MS;
    while (!entry.exited && Date.now() < deadline) await sleep(100);
    if (!entry.exited) {
      log(`${entry.name} (pid ${entry.child.pid}) did not stop in ${STOP_GRACE_MS / 1000} s; killing it`);
      entry.child.kill("SIGKILL");
      const killDeadline = Date.now() + 5_000;
      while (!entry.exited && Date.now() < killDeadline) await sleep(100);
    }
  }
}

/** The public services, whose health the gateway reports. */
const PUBLIC_SERVICES = ["auth.v1.AuthService", "account.v1.AccountService", "transfer.v1.TransferService", "finance.v1.FinanceService", "analytics.v1.AnalyticsService"].map((s) => `bank.${s}`);

/** grpc.health.v1.Health/Check through the gateway over grpc-web, by hand: true when SERVING. */
async function serving(gateway, service) {
  const name = Buffer.from(service);
  const message = Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
  const response = await fetch(`${gateway}/grpc.health.v1.Health/Check`, {
    method: "POST",
    headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
    body: frame,
    signal: AbortSignal.timeout(2_000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  // Frames: flag byte, u32 length, payload; the first data frame is HealthCheckResponse.
  // status = 1 (SERVING) encodes as 08 01.
  return response.ok && body.length >= 7 && body[0] === 0 && body.readUInt32BE(1) === 2 && body[5] === 0x08 && body[6] === 0x01;
}

async function untilServing(gateway, mesh) {
  await waitFor("the console at /", async () => (await fetch(`${gateway}/`, { signal: AbortSignal.timeout(2_000) })).ok, READY_TIMEOUT_MS, mesh);
  for (const service of PUBLIC_SERVICES) {
    await waitFor(`${service} SERVING`, () => serving(gateway, service), READY_TIMEOUT_MS, mesh);
  }
}

// ---------------------------------------------------------------- step 3
async function bundleSdkFlow(work) {
  const esbuild = await import(join(sdkDir, "node_modules", "esbuild", "lib", "main.js"));
  const out = join(work, "sdk-flow.js");
  await esbuild.build({
    absWorkingDir: consoleDir,
    entryPoints: [join(here, "sdk-flow.ts")],
    outfile: out,
    bundle: true,
    format: "iife",
    globalName: "sdkFlow",
    target: ["chrome100"],
    tsconfig: join(consoleDir, "tsconfig.json"),
    logLevel: "warning",
  });
  return readFileSync(out, "utf8");
}

/** Chooses the option of a <select> whose text matches `pattern`. */
async function chooseOption(selectLocator, pattern) {
  const option = selectLocator.locator("option").filter({ hasText: pattern }).first();
  await option.waitFor({ state: "attached" });
  await selectLocator.selectOption(await option.getAttribute("value"));
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function browserTests({ gateway, adminPassword }, work) {
  const { chromium } = await import(join(sdkDir, "node_modules", "playwright-core", "index.mjs"));
  const context = await chromium.launchPersistentContext(join(work, "chromium-profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const problems = [];
  const watch = (page, who) => {
    page.on("pageerror", (error) => problems.push(`${who}: page error: ${error.message}`));
    page.on("console", (message) => {
      // A CSP violation or a script error shows up here.
      if (message.type() === "error") problems.push(`${who}: console error: ${message.text()}`);
    });
  };
  let shot = 0;
  const screenshot = async (page, name) => {
    shot += 1;
    const file = join(artifacts, `${String(shot).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
  };
  try {
    // -- the SDK in Chromium, on the gateway's origin (a test page served by the browser itself)
    log("browser: SDK member flow over grpc-web");
    const flowSource = await bundleSdkFlow(work);
    const sdkPage = await context.newPage();
    watch(sdkPage, "sdk");
    await sdkPage.route(`${gateway}/sdk-e2e.html`, (route) =>
      route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>SDK e2e</title><p>SDK e2e</p>" }),
    );
    await sdkPage.goto(`${gateway}/sdk-e2e.html`);
    await sdkPage.addScriptTag({ content: flowSource });
    const result = await sdkPage.evaluate((base) => globalThis.sdkFlow.run(base), gateway);
    log(`  ${JSON.stringify(result)}`);
    check(/^\d{12}$/.test(result.accountNumber), "an account number of 12 digits");
    check(result.available === "7450", `balance after deposit 100.00 and transfer 25.50 is 74.50 (got ${result.available})`);
    check(result.exportKinds[0] === "header" && result.exportKinds.at(-1) === "trailer", `export stream is header, entries, trailer (got ${result.exportKinds})`);
    check(result.exportKinds.filter((k) => k === "entry").length === 2 && result.exportEntryCount === "2", "export has the two entries");
    check(result.trailerClosing === "7450", "export trailer's closing balance");
    check(result.declineMessage === "Insufficient funds." && result.declineReason === "INSUFFICIENT_FUNDS" && result.declineCode === "FAILED_PRECONDITION", `decline in words (got ${result.declineMessage} / ${result.declineReason})`);
    check(result.declineHasTransferId, "the decline names its recorded transfer");
    check(result.violations.includes("email") && result.violations.includes("password"), "field violations of a bad sign-up");
    await sdkPage.close();

    // -- console: member
    log("browser: console member flow");
    const member = await context.newPage();
    watch(member, "member");
    const email = `member-${Date.now()}@example.com`;
    const password = "a long member passphrase 7";
    await member.goto(`${gateway}/#/signup`);
    await member.getByRole("heading", { name: "Create your account" }).waitFor();
    await member.getByLabel("Email").fill(email);
    await member.getByLabel("Password").fill(password);
    await screenshot(member, "signup");
    await member.getByRole("button", { name: "Create account" }).click();
    await member.getByText("Your account is ready. Please log in.").waitFor();
    await member.getByLabel("Email").fill(email);
    await member.getByLabel("Password").fill(password);
    await member.getByRole("button", { name: "Log in" }).click();
    await member.getByRole("heading", { name: "Your accounts" }).waitFor();
    await member.getByText("You have no accounts yet").waitFor();

    const openForm = member.getByRole("form", { name: "Open an account" });
    await openForm.getByLabel("Nickname (optional)").fill("Everyday");
    await openForm.getByRole("button", { name: "Open account" }).click();
    await openForm.getByText(/^Opened account \d{4} \d{4} \d{4}\.$/).waitFor();
    await openForm.getByLabel("Type").selectOption({ label: "Savings" });
    await openForm.getByLabel("Nickname (optional)").fill("Rainy day");
    await openForm.getByRole("button", { name: "Open account" }).click();
    await member.getByRole("link", { name: "Rainy day (Savings)" }).waitFor();
    const savingsRow = member.getByRole("row", { name: /Rainy day/ });
    const savingsNumber = (await savingsRow.locator(".mono").innerText()).replace(/\s/g, "");
    check(/^\d{12}$/.test(savingsNumber), `savings number shown (got ${savingsNumber})`);

    await member.getByRole("link", { name: "Everyday (Checking)" }).click();
    await member.getByRole("heading", { name: /^Everyday \(Checking\)/ }).waitFor();
    const deposit = member.getByRole("form", { name: "Deposit cash" });
    await deposit.getByLabel(/Deposit cash/).fill("100.00");
    await deposit.getByRole("button", { name: "Deposit" }).click();
    await deposit.getByText("Deposited USD 100.00.").waitFor();
    await member.getByTestId("available").getByText("USD 100.00").waitFor();
    await screenshot(member, "member-deposit");

    await member.getByRole("link", { name: "Send money" }).first().click();
    await member.getByRole("heading", { name: "Send money" }).waitFor();
    const send = member.getByRole("form", { name: "Send money" });
    await chooseOption(send.getByLabel("From"), /Everyday/);
    // A mistyped digit: the check digits no longer match, and nothing is sent.
    const last = savingsNumber.at(-1);
    const mistyped = savingsNumber.slice(0, -1) + (last === "9" ? "0" : String(Number(last) + 1));
    await send.getByLabel("To account number").fill(mistyped);
    await send.getByLabel("Amount").fill("25.00");
    await send.getByText(/check digits do not match/).first().waitFor();
    check((await send.getByLabel("To account number").getAttribute("aria-invalid")) === "true", "the mistyped number is marked invalid");
    const grpcWebCalls = [];
    member.on("request", (request) => {
      if (request.url().includes("/bank.transfer.v1.TransferService/CreateTransfer")) grpcWebCalls.push(request.url());
    });
    await send.getByRole("button", { name: "Send" }).click();
    await send.getByRole("alert").getByText(/check digits do not match/).waitFor();
    await screenshot(member, "member-transfer-typo-rejected");
    check(grpcWebCalls.length === 0, "a mistyped account number is never sent");
    // A server refusal in words.
    await send.getByLabel("To account number").fill(savingsNumber.replace(/(\d{4})(?=\d)/g, "$1 "));
    await send.getByLabel("Amount").fill("1000.00");
    await send.getByRole("button", { name: "Send" }).click();
    await send.getByRole("alert").getByText("Insufficient funds.").waitFor();
    await screenshot(member, "member-insufficient-funds");
    await send.getByLabel("Amount").fill("25.00");
    await send.getByLabel("Description (optional)").fill("For a rainy day");
    await send.getByRole("button", { name: "Send" }).click();
    await send.getByText(/^Sent USD 25\.00 to \d{4} \d{4} \d{4}\.$/).waitFor();
    check(grpcWebCalls.length === 2, `two transfers were sent (the declined one and this one), got ${grpcWebCalls.length}`);

    await member.getByRole("link", { name: "Accounts" }).click();
    await member.getByRole("row", { name: /Everyday.*USD 75\.00/ }).waitFor();
    await member.getByRole("row", { name: /Rainy day.*USD 25\.00/ }).waitFor();
    await screenshot(member, "member-balances");
    await member.getByRole("link", { name: "Everyday (Checking)" }).click();
    await member.getByRole("img", { name: /^Balance during .* to USD 75\.00$/ }).waitFor();
    await member.getByRole("table", { name: /^Entries of/ }).getByText("For a rainy day").first().waitFor();
    await screenshot(member, "member-statement-chart");

    // -- console: admin creates a financing option
    log("browser: console admin flow");
    const admin = await context.newPage();
    watch(admin, "admin");
    await admin.goto(`${gateway}/#/login`);
    await admin.getByLabel("Email").fill("admin@bank.local");
    await admin.getByLabel("Password").fill(adminPassword);
    await admin.getByRole("button", { name: "Log in" }).click();
    await admin.getByRole("heading", { name: "Loan applications" }).waitFor();
    await admin.getByRole("link", { name: "Financing options" }).click();
    const optionForm = admin.getByRole("form", { name: "New financing option" });
    const optionName = `Personal ${Date.now()}`;
    await optionForm.getByLabel("Name").fill(optionName);
    await optionForm.getByRole("button", { name: "Create option" }).click();
    await optionForm.getByText(`Created ${optionName}.`).waitFor();

    // -- member applies and chooses the option
    await member.getByRole("link", { name: "Loans" }).click();
    const apply = member.getByRole("form", { name: "Apply for a loan" });
    await apply.getByLabel("Amount").fill("1000.00");
    await apply.getByLabel("Purpose").fill("A new bicycle");
    await chooseOption(apply.getByLabel("Pay into account"), /Everyday/);
    await apply.getByRole("button", { name: "Apply" }).click();
    await apply.getByText("Application submitted.", { exact: false }).waitFor();
    const choose = member.getByRole("form", { name: "Choose a financing option" }).first();
    await chooseOption(choose.getByLabel("Financing option"), new RegExp(optionName));
    await choose.getByRole("button", { name: "Choose option" }).click();
    await member.getByRole("table", { name: "Projected repayment schedule" }).waitFor();
    await screenshot(member, "member-loan-application");

    // -- admin approves it
    await admin.getByRole("link", { name: "Applications" }).click();
    await admin.getByRole("heading", { name: "Loan applications" }).waitFor();
    await admin.getByText(`Option: ${optionName}`).waitFor();
    await screenshot(admin, "admin-applications");
    await admin.getByRole("button", { name: "Approve Personal loan of USD 1,000.00" }).click();
    await admin.getByText(/^Approved: now approved, loan of USD 1,000\.00 paid out\.$/).waitFor();
    await screenshot(admin, "admin-approved");

    // -- admin: every account, and the live feed with its chart
    await admin.getByRole("link", { name: "All accounts" }).click();
    await admin.getByRole("table", { name: "Accounts, newest first" }).waitFor();
    await admin.getByRole("button", { name: `Freeze account ${savingsNumber.replace(/(\d{4})(?=\d)/g, "$1 ")}` }).waitFor();
    await screenshot(admin, "admin-accounts");
    await admin.getByRole("link", { name: "Live events" }).click();
    await admin.getByRole("heading", { name: "Live events" }).waitFor();
    await admin.locator('.feed li[data-type="TRANSFER_POSTED"]').first().waitFor({ timeout: 60_000 });
    // The deposits and transfers above are bars of the live chart.
    await admin.getByRole("img", { name: /^Posted USD transfer volume per minute/ }).locator('rect.chart-bar:not([data-value="0"])').first().waitFor();
    await screenshot(admin, "admin-live-events");
    await admin.getByRole("link", { name: "Flagged transfers" }).click();
    await admin.getByRole("heading", { name: "Flagged transfers" }).waitFor();
    await admin.locator("main table, main p").first().waitFor();

    // -- member sees the loan and its schedule
    await member.getByRole("link", { name: "Loans" }).click();
    await member.getByRole("link", { name: "Schedule" }).first().click();
    const schedule = member.getByRole("table", { name: "Repayment schedule" });
    await schedule.waitFor();
    const installments = await schedule.locator("tbody tr").count();
    check(installments === 12, `a 12-month loan has 12 installments (got ${installments})`);
    await screenshot(member, "member-loan-schedule");

    check(problems.length === 0, `the browser reported problems:\n${problems.join("\n")}`);
  } catch (error) {
    for (const [i, page] of context.pages().entries()) {
      if (page.url() === "about:blank") continue;
      try {
        await page.screenshot({ path: join(artifacts, `failure-${i}.png`), fullPage: true });
      } catch {
        // The page may be gone.
      }
    }
    if (problems.length > 0) console.error(`browser problems:\n${problems.join("\n")}`);
    throw error;
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- step 2
/** The flags of `bank up` that isolate a mesh without a network namespace. */
const ISOLATION_FLAGS = ["--database-prefix", "--redis-prefix", "--ephemeral-ports", "--addresses-file", "--admin-base-port"];
const SERVICES = ["auth", "account", "transfer", "finance", "analytics"];
/** Bounds of the Redis key clean-up. */
const REDIS_SCAN_KEYS_MAX = 1_000_000;

function upHasIsolationFlags() {
  const help = run(bankBin, ["up", "--help"]);
  return ISOLATION_FLAGS.every((flag) => help.includes(flag));
}

/**
 * `bank up` on the developer's PostgreSQL and Redis, isolated by its own
 * database names, Redis key prefix and OS-chosen ports; only what carries
 * this run's prefix is dropped afterwards.
 */
async function startMesh(work, names) {
  const logDir = join(work, "logs");
  mkdirSync(logDir, { recursive: true });
  const certs = join(work, "certs");
  run(bankBin, ["certs", "--dir", certs], { cwd: work });
  const addresses = join(work, "addresses.json");
  const env = { ...process.env, BANK_LOG: process.env.BANK_LOG ?? "info", NO_COLOR: "1" };
  delete env.BANK_CONFIG;
  log(`bank up (database prefix ${names.prefix}, Redis prefix ${names.redisPrefix}, ephemeral ports)`);
  const mesh = start(
    "mesh",
    bankBin,
    [
      "up",
      "--certs", certs,
      "--host", "127.0.0.1",
      "--ephemeral-ports",
      "--admin-base-port", "0",
      "--addresses-file", addresses,
      "--database-url", names.databaseUrl,
      "--database-prefix", names.prefix,
      "--redis-url", names.redisUrl,
      "--redis-prefix", names.redisPrefix,
    ],
    { logDir, cwd: work, env },
  );
  const address = await waitFor("bank up's addresses file", () => existsSync(addresses) && JSON.parse(readFileSync(addresses, "utf8")).gateway, READY_TIMEOUT_MS, mesh);
  const gateway = String(address).startsWith("http") ? String(address) : `http://${address}`;
  await untilServing(gateway, mesh);
  const adminPassword = readFileSync(join(certs, "admin.password"), "utf8").trim();
  return { gateway, adminPassword, mesh };
}

/** Drops this run's databases and Redis keys (never anything without its prefix). */
function dropStores(names) {
  for (const service of SERVICES) {
    const db = `${names.prefix}_${service}`;
    const result = spawnSync("psql", [names.databaseUrl, "-q", "-v", "ON_ERROR_STOP=1", "-c", `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`], { encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0) log(`could not drop database ${db}: ${(result.stderr ?? "").trim()}`);
  }
  const scan = spawnSync("redis-cli", ["-u", names.redisUrl, "--scan", "--pattern", `${names.redisPrefix}:*`], { encoding: "utf8", timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
  if (scan.status !== 0) log(`could not list Redis keys under ${names.redisPrefix}: ${(scan.stderr ?? "").trim()}`);
  const keys = (scan.stdout ?? "").split("\n").filter((k) => k.startsWith(`${names.redisPrefix}:`)).slice(0, REDIS_SCAN_KEYS_MAX);
  for (let i = 0; i < keys.length; i += 500) {
    spawnSync("redis-cli", ["-u", names.redisUrl, "UNLINK", ...keys.slice(i, i + 500)], { timeout: 60_000 });
  }
}

// ---------------------------------------------------------------- main
/** Starts the mesh one way or the other, runs the browser tests, cleans up. */
async function runTests() {
  const work = mkdtempSync(join(tmpdir(), "bank-ts-e2e-"));
  const names = {
    prefix: `tsweb_${randomBytes(6).toString("hex")}`,
    databaseUrl: process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres",
    redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  };
  names.redisPrefix = `test:${names.prefix}`;
  const deadline = setTimeout(async () => {
    console.error(`[test-ts] FAILED: the run took longer than ${RUN_DEADLINE_MS / 1000} s`);
    await stopAll();
    dropStores(names);
    process.exit(1);
  }, RUN_DEADLINE_MS);
  let failed = false;
  try {
    const mesh = await startMesh(work, names);
    log(`mesh up: ${mesh.gateway}`);
    const served = Buffer.from(await (await fetch(`${mesh.gateway}/console/app.js`)).arrayBuffer());
    if (!served.equals(readFileSync(join(consoleDir, "dist", "app.js")))) {
      throw new Error(`${bankBin} embeds another console bundle than sdk/console/dist: rebuild it (cargo build -p bank-cli)`);
    }
    await browserTests(mesh, work);
    log(`screenshots in ${relative(repo, artifacts)}`);
  } catch (error) {
    failed = true;
    console.error(`[test-ts] FAILED: ${error?.stack ?? error}`);
  } finally {
    await stopAll();
    dropStores(names);
    if (failed) {
      const file = join(work, "logs", "mesh.log");
      if (existsSync(file)) cpSync(file, join(artifacts, "mesh.log"));
      console.error(`[test-ts] the mesh's log is in ${relative(repo, artifacts)}/mesh.log`);
    }
    rmSync(work, { recursive: true, force: true });
    clearTimeout(deadline);
  }
  return !failed;
}

async function main() {
  const started = Date.now();
  rmSync(artifacts, { recursive: true, force: true });
  mkdirSync(artifacts, { recursive: true });
  checksWithoutMesh();
  if (!existsSync(bankBin)) fail(`${bankBin} is missing: cargo build -p bank-cli`);
  ensureChromium();
  if (!upHasIsolationFlags()) fail(`\`bank up\` lacks ${ISOLATION_FLAGS.join(", ")}: the throwaway mesh needs them to stay apart from a developer's`);
  if (!(await runTests())) fail("the browser tests failed");
  log(`passed in ${Math.round((Date.now() - started) / 1000)} s`);
}

await main();
