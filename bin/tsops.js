#!/usr/bin/env node
// The tsops command line.
//
// It runs from the bundle `npm run build` writes: dist/bundle/tsops.cjs (all of tsops in one
// CommonJS file) plus pre-bundled copies of yargs and age-encryption (dist/bundle/vendor/),
// which starts several times faster than the module tree in dist/. The bundle is compiled
// through a V8 code cache kept next to it (tsops.cjs.cache, written by the first run that
// finds none, or none fit for this Node version). Without a bundle, or with one older than
// dist/ (tsc was run on its own), dist/ is used as it is.
//
// This file is CommonJS (bin/package.json): an ES module entry point alone costs a noticeable
// share of a small command's run time.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// The AWS SDK warns about Node 20 on first use; that warning is noise in a CLI's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The first argument of the big-stack worker (runOnBigStack below): a NUL byte cannot be part
 * of a real command-line argument, so only that thread sees it. Loading node:worker_threads
 * just to read `isMainThread` cost every small command ~1 ms.
 */
const WORKER_MARK = '\0tsops-big-stack';
const onWorker = process.argv[2] === WORKER_MARK;
const argv = process.argv.slice(onWorker ? 3 : 2);
const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'bundle', 'tsops.cjs');
const cacheFile = `${bundle}.cache`;
/** Packages the bundle loads from its vendor/ copies (see package.json `bundle`). */
const VENDORED = new Set(['yargs', 'age-encryption']);

/** Loads the bundle through the code cache; returns its exports and a function that (re)writes the cache if needed. */
function loadBundle(st) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const isDecrypt = argv.some((a) => a === 'decrypt' || a === '-d' || a === '--decrypt');
  const key = `tsops-code-cache ${process.version} ${process.arch} ${st.size} ${st.mtimeMs}`;
  let cached;
  let cachedKind;
  try {
    const buf = fs.readFileSync(cacheFile);
    const nl = buf.indexOf(10);
    const head = nl > 0 ? buf.toString('latin1', 0, nl) : '';
    if (head.startsWith(`${key} `)) {
      cachedKind = head.slice(key.length + 1);
      // A decrypt run replaces a cache made by another command without loading it: a cache
      // built on top of it would carry that command's code too, and every small decrypt
      // would pay for reading it (~1.5 ms, measured after `encrypt` made the first cache).
      if (!isDecrypt || cachedKind === 'decrypt') cached = buf.subarray(nl + 1);
    }
  } catch {
    // no cache yet
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle, cachedData: cached });
  const mod = { exports: {} };
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  // A cache made by a decrypt run covers the code small decrypts (the case that needs to be fast) run.
  const stale = !cached || script.cachedDataRejected || (isDecrypt && cachedKind !== 'decrypt');
  const saveCache = () => {
    if (!stale || process.execArgv.length > 0) return;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, Buffer.concat([Buffer.from(`${key} ${isDecrypt ? 'decrypt' : 'other'}\n`, 'latin1'), script.createCachedData()]));
      fs.renameSync(tmp, cacheFile);
    } catch {
      // a read-only installation runs without a cache
      fs.rmSync(tmp, { force: true });
    }
  };
  return { cli: mod.exports, saveCache };
}

async function run() {
  const st = fs.statSync(bundle, { throwIfNoEntry: false });
  const distMain = fs.statSync(path.join(dist, 'cli', 'main.js'), { throwIfNoEntry: false });
  if (!st || (distMain && distMain.mtimeMs > st.mtimeMs)) {
    const cli = await import('../dist/cli/main.js');
    return cli.main(argv);
  }
  const { cli, saveCache } = loadBundle(st);
  const { pathToFileURL } = require('node:url');
  cli.setPackageImporter((name) => import(VENDORED.has(name) ? pathToFileURL(path.join(dist, 'bundle', 'vendor', `${name}.mjs`)).href : name));
  const code = await cli.main(argv);
  saveCache();
  return code;
}

// Deeply nested input (thousands of levels) needs more stack than the main thread has: the
// parsers of the `yaml` package and our own tree walks recurse once or twice per level. Such a
// command runs on a worker thread with a large stack (sops accepts 10,000 levels of YAML and
// JSON). A cheap scan of the files and values named on the command line decides; ordinary
// files never pay for the thread.
/** Estimated nesting above which a command runs on the big-stack thread. */
const DEEP = 200;
/** Stack of that thread (MB): 10,000 levels of every format and command fit with room to spare. */
const STACK_MB = 1024;

/**
 * An upper estimate of the nesting depth of JSON or YAML text (open brackets, plus indentation
 * and `- `/`? ` at line starts), or `limit + 1` as soon as it exceeds `limit`.
 */
function nestingEstimate(b, limit = DEEP) {
  let depth = 0;
  let max = 0;
  let lead = 0;
  let atStart = true;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c === 0x5b || c === 0x7b) {
      if (++depth + lead > max && (max = depth + lead) > limit) return max;
      atStart = false;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
      atStart = false;
    } else if (c === 0x0a) {
      atStart = true;
      lead = 0;
    } else if (atStart) {
      if (c === 0x20 || c === 0x09 || c === 0x2d || c === 0x3f) {
        if (++lead + depth > max && (max = lead + depth) > limit) return max;
      } else atStart = false;
    }
  }
  return max;
}

/**
 * {@link nestingEstimate} > {@link DEEP} for a file's bytes, with cheap native scans first: the
 * byte loop runs interpreted in a fresh process (~10 ms for 1 MB), so it only runs when the
 * bound below cannot rule deep nesting out. The bound is the deepest bracket nesting (brackets
 * picked out by one regex replace) plus the longest run of lead characters at a line start
 * (one regex test); both are at least the estimate's parts.
 */
function deepBytes(b) {
  if (b.length <= DEEP) return false;
  if (b.length < 1 << 16) return nestingEstimate(b) > DEEP;
  const text = b.toString('latin1');
  const brackets = text.replace(/[^[\]{}]+/g, '');
  let depth = 0;
  let max = 0;
  for (let i = 0; i < brackets.length; i++) {
    const c = brackets.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth;
    } else if (depth > 0) depth--;
  }
  if (max <= DEEP && !new RegExp(`^[ \\t?-]{${DEEP + 1 - max}}`, 'm').test(text)) return false;
  return nestingEstimate(b) > DEEP;
}

/** Formats whose files are read line by line (no nesting, so no scan): dotenv and INI. */
function flatFormat(args, file) {
  let explicit;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--input-type') explicit = args[i + 1];
    else if (a.startsWith('--input-type=')) explicit = a.slice('--input-type='.length);
    else if (a === '--filename-override' || a.startsWith('--filename-override=')) return false;
  }
  if (explicit !== undefined) return explicit === 'dotenv' || explicit === 'ini';
  return file.endsWith('.env') || file.endsWith('.ini');
}

/** Whether a file or value named in argv is nested deeply enough to need the big stack. */
function deepInput(args) {
  for (const a of args) {
    if (a.length > DEEP && nestingEstimate(Buffer.from(a)) > DEEP) return true;
    if (a.startsWith('-')) continue;
    let st;
    try {
      st = fs.statSync(a, { throwIfNoEntry: false });
    } catch {
      continue;
    }
    if (!st || !st.isFile() || st.size <= DEEP || flatFormat(args, a)) continue;
    try {
      if (deepBytes(fs.readFileSync(a))) return true;
    } catch {
      // unreadable: the command itself reports it
    }
  }
  return false;
}

function runOnBigStack() {
  const { Worker } = require('node:worker_threads');
  const worker = new Worker(__filename, {
    argv: [WORKER_MARK, ...argv],
    env: process.env,
    stdin: true,
    stdout: false,
    stderr: false,
    resourceLimits: { stackSizeMb: STACK_MB },
  });
  process.stdin.on('error', () => {});
  // a reader that went away (`tsops decrypt deep.json | head`) ends the command quietly
  for (const out of [process.stdout, process.stderr]) {
    out.on('error', (e) => {
      code = e && e.code === 'EPIPE' ? 141 : 3; // as the main-thread path; 3 is sops's CouldNotWriteOutputFile
      worker.terminate();
    });
  }
  worker.stdin.on('error', () => {});
  process.stdin.pipe(worker.stdin);
  let code = 1;
  worker.on('message', (m) => {
    if (m && typeof m.exitCode === 'number') code = m.exitCode;
  });
  worker.on('error', (e) => {
    process.stderr.write(`tsops: error: ${e && e.message ? e.message : String(e)}\n`);
    code = 1;
  });
  worker.on('exit', () => {
    if (code === 3 || code === 141) process.exit(code);
    process.stdin.unpipe(worker.stdin);
    process.stdin.destroy();
    process.exitCode = code;
  });
}

if (onWorker) {
  const { parentPort } = require('node:worker_threads');
  run().then(
    (code) => parentPort.postMessage({ exitCode: code ?? 0 }),
    (e) => {
      process.stderr.write(`tsops: error: ${e && e.message ? e.message : String(e)}\n`);
      parentPort.postMessage({ exitCode: 1 });
    },
  );
} else if (process.env.TSOPS_BIG_STACK === '1' || (process.env.TSOPS_BIG_STACK !== '0' && deepInput(argv))) {
  runOnBigStack();
} else {
  run().then((code) => {
    process.exitCode = code;
  });
}
