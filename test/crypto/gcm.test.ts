/**
 * Batched AES-256-GCM (crypto/gcm.ts) and the batch entry points of ValueCipher against
 * node:crypto and the value-by-value code path.
 */
import test from 'ava';
import { createCipheriv, randomBytes } from 'node:crypto';
import { GcmBatch } from '../../src/crypto/gcm.js';
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
