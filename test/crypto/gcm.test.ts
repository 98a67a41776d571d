/**
 * Batched AES-256-GCM (crypto/gcm.ts) and the batch entry points of ValueCipher against
 * node:crypto and the value-by-value code path.
 */
import test from 'ava';
import { createCipheriv, randomBytes } from 'node:crypto';
import { GcmBatch, type PackedValues } from '../../src/crypto/gcm.js';
import { WasmGhash } from '../../src/crypto/ghash-wasm.js';
import { ValueCipher } from '../../src/crypto/cipher.js';

function reference(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): { data: Buffer; tag: Buffer } {
  const c = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  c.setAAD(aad);
  const data = Buffer.concat([c.update(plain), c.final()]);
  return { data, tag: c.getAuthTag() };
}

test('seal and open match node:crypto for any IV, AAD and plaintext length', (t) => {
  for (let round = 0; round < 20; round++) {
    const key = randomBytes(32);
    const g = new GcmBatch(key);
    const values = Array.from({ length: 150 }, (_, i) => ({
      iv: randomBytes([32, 12, 1, 16, 17, 64][i % 6]!),
      aad: randomBytes((i * 7) % 70),
      plain: randomBytes((i * 13) % 100),
    }));
    const expected = values.map((v) => reference(key, v.iv, v.aad, v.plain));
    g.seal(values).forEach((s, i) => {
      t.true(s.data.equals(expected[i]!.data) && s.tag.equals(expected[i]!.tag));
    });
    g.open(values.map((v, i) => ({ iv: v.iv, aad: v.aad, data: expected[i]!.data, tag: expected[i]!.tag }))).forEach((p, i) => {
      t.true(p !== undefined && p.equals(values[i]!.plain));
    });
  }
});

test('open rejects any change to the ciphertext, tag or additional data', (t) => {
  const key = randomBytes(32);
  const g = new GcmBatch(key);
  const values = Array.from({ length: 300 }, (_, i) => {
    const iv = randomBytes(32);
    const aad = Buffer.from(`a:b${i}:`);
    const plain = randomBytes(1 + (i % 40));
    return { iv, aad, plain, ...reference(key, iv, aad, plain) };
  });
  const tampered = values.map((v, i) => {
    const data = Buffer.from(v.data);
    const tag = Buffer.from(v.tag);
    const aad = Buffer.from(v.aad);
    if (i % 3 === 0) data[i % data.length]! ^= 1 << (i % 8);
    else if (i % 3 === 1) tag[i % 16]! ^= 0x80;
    else aad[0]! ^= 1;
    return { iv: v.iv, aad, data, tag };
  });
  t.true(g.open(tampered).every((p) => p === undefined));
});

const ad = (i: number): string => `service_${i >> 3}:key_${i & 7}:`;

test('ValueCipher.decryptMany equals decrypt() value by value, and leaves failures to it', (t) => {
  const key = randomBytes(32);
  const c = new ValueCipher(key);
  const texts = Array.from({ length: 64 }, (_, i) => c.encrypt(randomBytes(i % 20), (['str', 'int', 'float', 'bool', 'time', 'comment'] as const)[i % 6], ad(i)));
  texts[5] = '';
  texts[9] = texts[9]!.replace(/tag:[^,]+/, 'tag:AAAAAAAAAAAAAAAAAAAAAA==');
  texts[11] = texts[11]! + 'trailing'; // not the canonical layout: left to decrypt()
  const many = new ValueCipher(key).decryptMany(texts, texts.map((_, i) => ad(i)));
  texts.forEach((text, i) => {
    let one: { type: string; plain: Uint8Array } | undefined;
    try {
      one = new ValueCipher(key).decrypt(text, ad(i));
    } catch {
      one = undefined;
    }
    if (i === 11) t.is(many[i], undefined);
    else t.deepEqual(many[i] && { type: many[i]!.type, plain: Buffer.from(many[i]!.plain) }, one && { type: one.type, plain: Buffer.from(one.plain) }, `value ${i}`);
  });
});

test('ValueCipher.encryptMany: decryptable, equal values at one path share a text, remembered texts are reused', (t) => {
  const key = randomBytes(32);
  const c = new ValueCipher(key);
  const a = Buffer.from('same');
  const values = [
    { plain: a, type: 'str' as const, ad: 'list:' },
    { plain: Buffer.from('other'), type: 'str' as const, ad: 'list:' },
    { plain: Buffer.from('same'), type: 'str' as const, ad: 'list:' },
    { plain: Buffer.from('same'), type: 'str' as const, ad: 'x:' },
    { plain: new Uint8Array(0), type: 'str' as const, ad: 'y:' },
  ];
  const texts = c.encryptMany(values);
  t.is(texts[0], texts[2]);
  t.not(texts[0], texts[3]);
  t.is(texts[4], '');
  texts.slice(0, 4).forEach((text, i) => t.true(Buffer.from(new ValueCipher(key).decrypt(text, values[i]!.ad).plain).equals(Buffer.from(values[i]!.plain))));
  // what one cipher encrypted or decrypted is reused for the same value, value by value or in a batch
  t.is(c.encrypt(Buffer.from('same'), 'str', 'x:'), texts[3]);
  const d = new ValueCipher(key);
  const { plain, type } = d.decrypt(texts[1]!, 'list:');
  d.remember(texts[1]!, type, 'list:', plain);
  t.deepEqual(d.encryptMany([{ plain: Buffer.from('other'), type: 'str', ad: 'list:' }]), [texts[1]]);
});

test('decryptMany decodes base64 padding of every length as decrypt() does', (t) => {
  const key = randomBytes(32);
  const c = new ValueCipher(key);
  // plaintext lengths 0..47 give data fields ending in "", "=" and "=="; 40 values take the batch path
  const texts = Array.from({ length: 48 }, (_, i) => c.encrypt(randomBytes(i + 1), 'str', `k${i}:`));
  const many = new ValueCipher(key).decryptMany(texts, texts.map((_, i) => `k${i}:`));
  texts.forEach((text, i) => t.deepEqual(Buffer.from(many[i]!.plain), Buffer.from(new ValueCipher(key).decrypt(text, `k${i}:`).plain), `value ${i}`));
});

/** Values laid out end to end as the packed methods take them. */
function pack(values: ReadonlyArray<{ iv: Uint8Array; aad: Uint8Array; data: Uint8Array; tag?: Uint8Array }>, ivLength: number): PackedValues {
  const off = (xs: Uint8Array[]) => {
    const o = new Int32Array(xs.length + 1);
    xs.forEach((x, i) => (o[i + 1] = o[i]! + x.length));
    return o;
  };
  return {
    count: values.length,
    ivLength,
    ivs: Buffer.concat(values.map((v) => v.iv)),
    aad: Buffer.concat(values.map((v) => v.aad)),
    aadOff: off(values.map((v) => v.aad)),
    data: Buffer.concat(values.map((v) => v.data)),
    dataOff: off(values.map((v) => v.data)),
    tags: Buffer.concat(values.map((v) => v.tag ?? new Uint8Array(0))),
  };
}

test('the WebAssembly GHASH is available here (the packed methods below use it)', (t) => {
  t.truthy(WasmGhash.create(new Int32Array(1024), new Int32Array(256)));
});

test('sealPacked and openPacked match node:crypto for 12- and 32-byte IVs, any AAD and plaintext length, and reject tampering', (t) => {
  for (const ivLength of [32, 12, 16]) {
    for (let round = 0; round < 6; round++) {
      const key = randomBytes(32);
      const g = new GcmBatch(key);
      const values = Array.from({ length: 97 + round * 211 }, (_, i) => ({ iv: randomBytes(ivLength), aad: randomBytes((i * 7 + round) % 70), plain: randomBytes((i * 13 + round) % 100) }));
      const expected = values.map((v) => reference(key, v.iv, v.aad, v.plain));
      const sealed = g.sealPacked(pack(values.map((v) => ({ iv: v.iv, aad: v.aad, data: v.plain })), ivLength));
      t.true(sealed.data.equals(Buffer.concat(expected.map((e) => e.data))), `ciphertexts, iv ${ivLength}`);
      t.true(sealed.tags.equals(Buffer.concat(expected.map((e) => e.tag))), `tags, iv ${ivLength}`);
      const opened = g.openPacked(pack(values.map((v, i) => ({ iv: v.iv, aad: v.aad, data: expected[i]!.data, tag: expected[i]!.tag })), ivLength));
      t.true(opened.ok.every((x) => x === 1));
      t.true(opened.plain.equals(Buffer.concat(values.map((v) => v.plain))));
      const tampered = values.map((v, i) => {
        const data = Buffer.from(expected[i]!.data);
        const tag = Buffer.from(expected[i]!.tag);
        const aad = Buffer.from(v.aad);
        const iv = Buffer.from(v.iv);
        const what = i % 5;
        if (what === 0 && data.length > 0) data[i % data.length]! ^= 1 << (i % 8);
        else if (what === 1) tag[i % 16]! ^= 0x80;
        else if (what === 2 && aad.length > 0) aad[aad.length - 1]! ^= 1;
        else if (what === 3) iv[i % ivLength]! ^= 4;
        else return { iv, aad, data, tag, changed: false };
        return { iv, aad, data, tag, changed: true };
      });
      const bad = g.openPacked(pack(tampered, ivLength));
      tampered.forEach((v, i) => t.is(bad.ok[i], v.changed ? 0 : 1, `value ${i}, iv ${ivLength}`));
    }
  }
});

test('WasmGhash.reserve reports memory it cannot get (the caller falls back to the JavaScript GHASH)', (t) => {
  const w = WasmGhash.create(new Int32Array(1024), new Int32Array(256))!;
  t.is(w.reserve(2 ** 33), -1);
  t.true(w.reserve(100_000) > 0);
  t.true(w.bytes.length >= 100_000);
});

test('decryptMany on texts changed at every position: each result is decrypt()\'s, or left to it', (t) => {
  const key = randomBytes(32);
  const c = new ValueCipher(key);
  const types = ['str', 'int', 'float', 'bool', 'time', 'comment', 'bytes'] as const;
  const bases = Array.from({ length: 7 }, (_, i) => c.encrypt(randomBytes(1 + i * 5), types[i]!, `k${i}:`));
  // ASCII edits (the decoder in WebAssembly) and non-ASCII ones (the regex path)
  for (const chars of [['=', ',', ']', 'A', '/', '+', '-', ' ', ':', '', '==', 'AAAA', ',iv:', ',tag:'], ['\u00e9', '\u0141']]) {
    const texts: string[] = [];
    const ads: string[] = [];
    bases.forEach((base, b) => {
      for (let i = 0; i < base.length; i++) {
        for (const ch of chars) {
          texts.push(base.slice(0, i) + ch + base.slice(i + 1));
          ads.push(`k${b}:`);
        }
      }
      texts.push(base);
      ads.push(`k${b}:`);
    });
    const many = new ValueCipher(key).decryptMany(texts, ads);
    let decrypted = 0;
    texts.forEach((text, i) => {
      let one: { type: string; plain: Buffer } | undefined;
      try {
        const r = new ValueCipher(key).decrypt(text, ads[i]!);
        one = { type: r.type, plain: Buffer.from(r.plain) };
      } catch {
        one = undefined;
      }
      const got = many[i];
      if (got === undefined) return; // left to decrypt()
      decrypted++;
      if (one === undefined) t.fail(`decryptMany accepted what decrypt() rejects: ${text}`);
      else if (got.type !== one.type || !Buffer.from(got.plain).equals(one.plain)) t.fail(`different result for ${text}`);
    });
    t.true(decrypted >= bases.length, 'the unchanged texts are decrypted in the batch');
  }
});
