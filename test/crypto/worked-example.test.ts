// The worked example of sops-format.md §1.1: fixed data key and IVs reproduce sops's bytes.
import test from 'ava';
import { ValueCipher } from '../../src/crypto/cipher.js';
import { decryptDocuments, encryptDocuments } from '../../src/crypto/tree-cipher.js';
import { makeSelector } from '../../src/tree/select.js';
import { bool, comment, entry, float, int, map, seq, str, type MapNode } from '../../src/tree/types.js';

function fixedIvs() {
  let n = 0;
  return () => {
    n += 1;
    return new Uint8Array(32).fill(n);
  };
}

const plain = (): MapNode =>
  map([
    comment(' db settings'),
    entry('db', map([entry('user', str('admin')), entry('port', int(5432)), entry('ratio', float(0.5)), entry('enabled', bool(true))])),
    entry('tags', seq([str('a')])),
    entry('public_unencrypted', str('hello')),
  ]);

const key = new Uint8Array(32).fill(0x42);

test('encrypting the worked example gives sops bytes and MAC', (t) => {
  const cipher = new ValueCipher(key, { randomIv: fixedIvs() });
  const res = encryptDocuments([plain()], { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher });
  const doc = res.documents[0]!;
  t.deepEqual(doc.items[0], comment('ENC[AES256_GCM,data:VNSsyFVQ1hqT/BH6,iv:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,tag:jAV+yrAdZEOpAbIYbI75Jg==,type:comment]'));
  const db = doc.items[1] as { value: MapNode };
  const vals = db.value.items.map((i) => (i.kind === 'entry' && i.value.kind === 'str' ? i.value.value : ''));
  t.deepEqual(vals, [
    'ENC[AES256_GCM,data:9sZMoEU=,iv:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=,tag:/oGHS7ScEclaJ+Teb8mdmQ==,type:str]',
    'ENC[AES256_GCM,data:GWJL4A==,iv:AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=,tag:xIRj00oItK5eQ/+zj3adig==,type:int]',
    'ENC[AES256_GCM,data:Rmi0,iv:BAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ=,tag:ehh4SsQpt96WIahFaF/f+A==,type:float]',
    'ENC[AES256_GCM,data:+gbvPg==,iv:BQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=,tag:W18Mv7fkCJwUCTvXCS7rBw==,type:bool]',
  ]);
  t.is(res.mac, '4DE2E5AF614B74E82FF777AE041DF8D48AAEEC6B407B4D0CA163F373BCEAA1737338FE7855BF8EABEA71BE04709F493239DF07C518907106B69657C0178D6976');
  const macText = cipher.encrypt(Buffer.from(res.mac), 'str', '2024-01-01T00:00:00Z');
  t.is(
    macText,
    'ENC[AES256_GCM,data:N/mcTTTRykMdTtSsTMFMskx9myWq5FxJbNnxGv6UIyQdnXuXlmp5LzwNQcKWFl6ymQJ+WQNlN3gmeeE15GyOzp4MElOz73ND5wkDi9HO7pP/BeTDNWoNaZy6ZPXupcJ4EvRjsjrNNDcxAqRvVPdukdl0uEX1oPO8lvfXSrzGRCo=,iv:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=,tag:4r16l05pbVmgnratWIbpmg==,type:str]',
  );
});

test('mac_only_encrypted digest matches the spec', (t) => {
  const cipher = new ValueCipher(key, { randomIv: fixedIvs() });
  const res = encryptDocuments([plain()], { selector: makeSelector(undefined), macOnlyEncrypted: true, cipher });
  t.is(res.mac, '1DF88788B9E3529B1F03060321CCB33A34AD2D6CDFF112D4158AE43EB80C8F1E8E692A59CC64DD3FD6058E84AA2687184EFD7A6DC71E5C7236B51280127A2778');
});

test('decrypt restores every typed leaf and the same MAC', (t) => {
  const enc = encryptDocuments([plain()], { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher: new ValueCipher(key) });
  const dec = decryptDocuments(enc.documents, { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher: new ValueCipher(key) });
  t.deepEqual(dec.documents, [plain()]);
  t.is(dec.mac, enc.mac);
});

test('re-encrypting after decrypt reuses unchanged ciphertexts and changes only edited ones', (t) => {
  const enc = encryptDocuments([plain()], { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher: new ValueCipher(key) });
  const cipher = new ValueCipher(key);
  const dec = decryptDocuments(enc.documents, { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher });
  const edited = dec.documents[0]!;
  const db = edited.items[1] as { value: MapNode };
  (db.value.items[0] as { value: unknown }).value = str('root');
  const again = encryptDocuments([edited], { selector: makeSelector(undefined), macOnlyEncrypted: false, cipher });
  const flat = (d: MapNode) => JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  const a = JSON.parse(flat(enc.documents[0]!));
  const b = JSON.parse(flat(again.documents[0]!));
  t.deepEqual(a.items[0], b.items[0]); // comment unchanged
  t.notDeepEqual(a.items[1].value.items[0], b.items[1].value.items[0]); // user changed
  t.deepEqual(a.items[1].value.items.slice(1), b.items[1].value.items.slice(1)); // the rest identical
  t.deepEqual(a.items[2], b.items[2]);
});
