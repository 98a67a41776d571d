// JSON files tsops encrypts (age) are decrypted by the real sops 3.9.2 engine to the same data,
// MAC verified. The oracle re-serializes JSON through Go's float64 (keys sorted, integers above
// 2^53 rounded), so data is compared after the same rounding; tsops's own decryption is checked
// exactly.
import { decrypt, loadPlain, toJS } from '../../src/index.js';
import { assertOracleOk, encryptAndOracle, encryptFor, norm, normJson, sharedAgeKey, tsopsData, tsopsDecryptCode } from '../helpers/interop.js';
import { sharedTest } from '../helpers/shared.js';

const SCALARS = `{
  "str": "hello",
  "empty": "",
  "unicode": "ünïcödé 🎉 日本語",
  "escaped": "\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\",
  "html": "<a href=\\"x\\">&amp;</a>",
  "bom": "\\ufeffbom",
  "ctrl": "nul\\u0000 bell\\u0007 del\\u007f",
  "lines": "line one\\nline two\\n",
  "lead": "  two leading spaces",
  "numberish": "123",
  "boolish": "true",
  "nullish": "null",
  "int": 42,
  "neg": -17,
  "zero": 0,
  "neg_zero_int": -0,
  "int64_max": 9223372036854775807,
  "int64_min": -9223372036854775808,
  "above_int64": 9223372036854775808,
  "huge": 123456789012345678901234567890,
  "above_2_53": 9007199254740993,
  "float": 3.14,
  "neg_float": -2.5,
  "one_point": 1.0,
  "neg_zero": -0.0,
  "big": 1e21,
  "big_upper": 1E+21,
  "small": 1.5e-7,
  "tiny": 5e-324,
  "max": 1.7976931348623157e308,
  "exp": 1e3,
  "t": true,
  "f": false,
  "n": null,
  "list": [1, "two", 3.5, true, null, [], {}, [[1, [2]], {"k": [{"deep": "x"}]}]],
  "nested": {"a": {"b": {"c": {"d": [1, 2, 3]}}}},
  "empty_obj": {},
  "empty_arr": [],
  "key with spaces": 1,
  "key:colon#hash": 2,
  "123": "integer-like key",
  "": "empty key",
  "ключ": "unicode key"
}`;

const EXPECTED = {
  str: 'hello', empty: '', unicode: 'ünïcödé 🎉 日本語', escaped: 'é😀/\b\f\n\r\t"\\', html: '<a href="x">&amp;</a>', bom: '\ufeffbom',
  ctrl: 'nul\u0000 bell\u0007 del\u007f', lines: 'line one\nline two\n', lead: '  two leading spaces', numberish: '123', boolish: 'true', nullish: 'null',
  int: 42n, neg: -17n, zero: 0n, neg_zero_int: 0n, int64_max: 9223372036854775807n, int64_min: -9223372036854775808n,
  above_int64: 9223372036854775808n, huge: BigInt(123456789012345678901234567890), above_2_53: 9007199254740993n,
  float: 3.14, neg_float: -2.5, one_point: 1n, neg_zero: -0, big: BigInt(1e21), big_upper: BigInt(1e21), small: 1.5e-7, tiny: 5e-324,
  max: BigInt(1.7976931348623157e308), exp: 1000n, t: true, f: false, n: null,
  list: [1n, 'two', 3.5, true, null, [], {}, [[1n, [2n]], { k: [{ deep: 'x' }] }]],
  nested: { a: { b: { c: { d: [1n, 2n, 3n] } } } }, empty_obj: {}, empty_arr: [],
  'key with spaces': 1n, 'key:colon#hash': 2n, '123': 'integer-like key', '': 'empty key', 'ключ': 'unicode key',
};

sharedTest('json: every scalar type, nesting and odd keys, encrypted and in clear text, decrypt in sops 3.9.2 to the same data', async (t) => {
  // Left out in clear text: the float -0 (a known bug, see the last test) and the numbers that
  // sops 3.9.2 hashes as float64 but sops >= 3.13.2 and tsops as int64 (see the next test).
  const clear = SCALARS.split('\n').filter((l) => !/"(neg_zero|int64_max|int64_min|above_2_53)"/.test(l)).join('\n');
  const plain = `${SCALARS.slice(0, -2)},\n  "clear_unencrypted": ${clear}\n}`;
  const { enc, oracle, ctx } = await encryptAndOracle(plain, 'json', await sharedAgeKey());
  assertOracleOk(t, oracle);
  const { neg_zero: _a, int64_min: _b, int64_max: _c, above_2_53: _d, ...clearExpected } = EXPECTED;
  // The oracle rounds through float64 and keeps -0 as -0 ("-0" in Go's JSON).
  const oracleData = JSON.parse(oracle.stdout, (_k, v) => v);
  t.deepEqual(normJson(oracleData), normJson({ ...EXPECTED, clear_unencrypted: clearExpected }));
  t.true(Object.is(oracleData.neg_zero, -0), 'sops 3.9.2 decrypts the encrypted float -0 as -0');
  // tsops: exact, int64 edges included.
  t.deepEqual(await tsopsData(enc, 'json', ctx), norm({ ...EXPECTED, clear_unencrypted: clearExpected }));
  t.regex(enc, /"int64_min": "ENC\[.*,type:int\]"/);
  t.regex(enc, /"above_int64": "ENC\[.*,type:float\]"/);
  t.regex(enc, /"n": null/);
});

sharedTest('json: clear integers that float64 cannot hold are a known version difference: sops 3.9.2 computes another MAC', async (t) => {
  // sops <= 3.13.1 reads every JSON number as float64, sops >= 3.13.2 (and tsops) as int64 when
  // it fits: the MAC text of integers beyond 2^53 differs (float64 gives 9223372036854776000),
  // see sops-format.md, JSON numbers.
  const key = await sharedAgeKey();
  for (const n of ['9223372036854775807', '-9223372036854775808', '9007199254740993']) {
    const { enc, oracle, ctx } = await encryptAndOracle(`{"n_unencrypted": ${n}}`, 'json', key);
    t.is(oracle.code, 1, n);
    t.regex(oracle.stderr, /Failed to verify data integrity/);
    t.is((await tsopsDecryptCode(enc, 'json', ctx)).code, 0, n);
  }
  // Encrypted, the same numbers are fine for sops 3.9.2 (they carry their text).
  const { oracle } = await encryptAndOracle('{"n": 9223372036854775807, "m": 9007199254740993, "o": -9223372036854775808}', 'json', key);
  assertOracleOk(t, oracle);
});

sharedTest('json: a top-level-only document, tab indent by default and indent 2; the output keeps key order and duplicate keys', async (t) => {
  const key = await sharedAgeKey();
  const plain = '{"z": 1, "a": {"y": [1, {"b": 2, "a": 1}]}, "dup": 1, "dup": 2}';
  for (const indent of [undefined, 2]) {
    const { enc, oracle, ctx } = await encryptAndOracle(plain, 'json', key, indent === undefined ? {} : { indent });
    assertOracleOk(t, oracle);
    // Go's map keeps the last of duplicate keys.
    t.deepEqual(normJson(JSON.parse(oracle.stdout)), normJson({ z: 1, a: { y: [1, { b: 2, a: 1 }] }, dup: 2 }));
    t.is(
      await decrypt(enc, { inputType: 'json', keyContext: ctx }),
      '{\n\t"z": 1,\n\t"a": {\n\t\t"y": [\n\t\t\t1,\n\t\t\t{\n\t\t\t\t"b": 2,\n\t\t\t\t"a": 1\n\t\t\t}\n\t\t]\n\t},\n\t"dup": 1,\n\t"dup": 2\n}\n',
    );
    if (indent === 2) t.regex(enc, /^ {2}"z": "ENC/m);
    else t.regex(enc, /^\t"z": "ENC/m);
  }
});

const SELECTION = '{"plain_key": "visible", "secret_enc": "hidden", "nested": {"password": "hunter2", "user_unencrypted": "bob", "url": "http://x", "list_enc": [1, "two"]}, "data": 3}';
const SELECTION_DATA = JSON.parse(SELECTION);

const rules: Array<[string, Record<string, unknown>, string[], string[]]> = [
  ['default', {}, ['plain_key', 'data', 'password'], ['user_unencrypted']],
  ['unencrypted_suffix', { rules: { unencrypted_suffix: '_key' } }, ['secret_enc', 'user_unencrypted'], ['plain_key']],
  ['encrypted_suffix', { rules: { encrypted_suffix: '_enc' } }, ['secret_enc'], ['plain_key', 'password']],
  ['unencrypted_regex', { rules: { unencrypted_regex: '^(plain|url)' } }, ['password', 'data'], ['plain_key', 'url']],
  ['encrypted_regex', { rules: { encrypted_regex: '^(password|data)$' } }, ['password', 'data'], ['plain_key', 'secret_enc', 'url']],
  ['mac_only_encrypted', { macOnlyEncrypted: true, rules: { encrypted_regex: '^password$' } }, ['password'], ['plain_key', 'data']],
];

for (const [name, opts, encrypted, clear] of rules) {
  sharedTest(`json: selection ${name}: sops 3.9.2 decrypts to the same data`, async (t) => {
    const { enc, oracle, ctx } = await encryptAndOracle(SELECTION, 'json', await sharedAgeKey(), opts);
    for (const k of encrypted) t.regex(enc, new RegExp(`"${k}": "ENC\\[`), `${k} is encrypted`);
    for (const k of clear) t.notRegex(enc, new RegExp(`"${k}": "ENC\\[`), `${k} is in clear text`);
    assertOracleOk(t, oracle);
    t.deepEqual(normJson(JSON.parse(oracle.stdout)), normJson(SELECTION_DATA));
    t.deepEqual(await tsopsData(enc, 'json', ctx), norm(SELECTION_DATA));
  });
}

// ---- known bug (reported, not fixed here) ----

sharedTest('json: a float -0 survives encryption, in clear text and in the decrypted output', async (t) => {
  // Written as `-0` (Go's json.Marshal), read back by tsops (and sops >= 3.13.2) as the int 0:
  // in clear text the MAC (over "-0") no longer matches; encrypted, the decrypted output reads
  // back as 0. sops 3.9.2 reads every JSON number as a float and accepts the file. (The YAML
  // store writes `-0.0` for this reason.)
  const { enc, oracle, ctx } = await encryptAndOracle('{"x_unencrypted": -0.0, "y": -0.0}', 'json', await sharedAgeKey());
  assertOracleOk(t, oracle);
  const own = await tsopsDecryptCode(enc, 'json', ctx);
  t.is(own.code, 0, `tsops cannot decrypt the file it wrote: ${own.message}`);
  const onlyEncrypted = await encryptFor('{"y": -0.0}', 'json', await sharedAgeKey());
  const out = await decrypt(onlyEncrypted.enc, { inputType: 'json', keyContext: onlyEncrypted.ctx });
  const y = toJS(loadPlain(new TextEncoder().encode(out), 'json', 'the decrypted output').documents[0]!) as { y: number };
  t.true(Object.is(y.y, -0), `the decrypted output ${JSON.stringify(out)} reads back as ${y.y}, not -0`);
});
