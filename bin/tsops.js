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

const argv = process.argv.slice(2);
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

run().then((code) => {
  process.exitCode = code;
});
