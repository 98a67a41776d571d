// Generates the benchmark inputs (plaintext) deterministically: tiny YAML, 10k-key YAML
// (~1 MB, nested, mixed types) with the same data as JSON and dotenv, 100k-key YAML, and 200
// small YAML files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A small deterministic PRNG (mulberry32), so every run measures the same files. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];

function value(r, i) {
  switch (i % 6) {
    case 0:
      return { t: 'str', v: `${WORDS[i % WORDS.length]}-${Math.floor(r() * 1e9).toString(36)}-${'x'.repeat(40 + (i % 30))}` };
    case 1:
      return { t: 'int', v: Math.floor(r() * 1e6) };
    case 2:
      return { t: 'float', v: Math.round(r() * 1e6) / 1000 + 0.5 };
    case 3:
      return { t: 'bool', v: r() < 0.5 };
    case 4:
      return { t: 'str', v: `postgres://user${i}:pw${Math.floor(r() * 1e9)}@db-${i % 17}.internal:5432/app_${i}` };
    default:
      return { t: 'str', v: `token_${Math.floor(r() * 1e12).toString(16)}${Math.floor(r() * 1e12).toString(16)}` };
  }
}

/** keys: [section][key] = value; `sections` groups of `perSection` leaves. */
function dataset(n, seed) {
  const r = rng(seed);
  const perSection = 50;
  const sections = [];
  for (let s = 0; s * perSection < n; s++) {
    const items = [];
    for (let k = 0; k < perSection && s * perSection + k < n; k++) items.push([`key_${k}`, value(r, s * perSection + k)]);
    sections.push([`service_${s}`, items]);
  }
  return sections;
}

const yamlScalar = (x) => (x.t === 'str' ? x.v : String(x.v));
const jsonScalar = (x) => (x.t === 'str' ? JSON.stringify(x.v) : x.t === 'float' && Number.isInteger(x.v) ? `${x.v}.0` : String(x.v));

function toYaml(ds) {
  let out = '# generated benchmark input\n';
  for (const [s, items] of ds) {
    out += `${s}:\n`;
    for (const [k, v] of items) out += `    ${k}: ${yamlScalar(v)}\n`;
  }
  return out;
}

function toJson(ds) {
  const secs = ds.map(([s, items]) => `\t"${s}": {\n${items.map(([k, v]) => `\t\t"${k}": ${jsonScalar(v)}`).join(',\n')}\n\t}`);
  return `{\n${secs.join(',\n')}\n}\n`;
}

function toDotenv(ds) {
  let out = '';
  for (const [s, items] of ds) for (const [k, v] of items) out += `${s.toUpperCase()}_${k.toUpperCase()}=${yamlScalar(v)}\n`;
  return out;
}

export function generate(dir) {
  mkdirSync(join(dir, 'small'), { recursive: true });
  writeFileSync(join(dir, 'tiny.yaml'), 'db:\n    user: admin\n    password: hunter2\n    port: 5432\napi_key: abcdef0123456789\ndebug: false\n');
  const ten = dataset(10_000, 1);
  writeFileSync(join(dir, '10k.yaml'), toYaml(ten));
  writeFileSync(join(dir, '10k.json'), toJson(ten));
  writeFileSync(join(dir, '10k.env'), toDotenv(ten));
  writeFileSync(join(dir, '100k.yaml'), toYaml(dataset(100_000, 2)));
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(dir, 'small', `s${String(i).padStart(3, '0')}.yaml`), `app: app${i}\npassword: pw-${i}-${'z'.repeat(i % 13)}\nreplicas: ${i % 7}\n`);
  }
}
