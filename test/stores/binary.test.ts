import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SopsError } from '../../src/errors.js';
import { binaryStore } from '../../src/stores/binary.js';
import { bytes, entry, get, int, map, str } from '../../src/tree/types.js';
import type { MapNode } from '../../src/tree/types.js';
import { sharedTest, test, vectorsDir } from '../helpers/shared.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

test('plain load: the whole file under "data" (string when UTF-8, bytes otherwise)', (t) => {
  t.deepEqual(binaryStore.load(enc.encode('hello\nworld\n'), 'plain'), { documents: [map([entry('data', str('hello\nworld\n'))])] });
  t.deepEqual(binaryStore.load(enc.encode('\ufeffbom kept'), 'plain').documents[0], map([entry('data', str('\ufeffbom kept'))]));
  const raw = new Uint8Array([0x00, 0xff, 0xfe, 0x80]);
  t.deepEqual(binaryStore.load(raw, 'plain').documents[0], map([entry('data', bytes(raw))]));
  t.deepEqual(binaryStore.load(new Uint8Array(), 'plain').documents[0], map([entry('data', str(''))]));
});

test('encrypted load (the default): the JSON envelope', (t) => {
  const f = binaryStore.load(enc.encode('{"data": "ENC[x]", "sops": {"version": "3.13.2"}}'));
  t.deepEqual(f.documents[0], map([entry('data', str('ENC[x]'))]));
  t.deepEqual(f.metadata, map([entry('version', str('3.13.2'))]));
});

test('emit without metadata: the raw data, no newline added', (t) => {
  t.is(dec.decode(binaryStore.emit({ documents: [map([entry('data', str('abc'))])] })), 'abc');
  const raw = new Uint8Array([0xff, 0x00]);
  t.deepEqual(binaryStore.emit({ documents: [map([entry('other', str('x')), entry('data', bytes(raw))])] }), raw);
  t.throws(() => binaryStore.emit({ documents: [map([entry('x', str('y'))])] }), { instanceOf: SopsError, message: /no binary data/ });
  t.throws(() => binaryStore.emit({ documents: [map([entry('data', int(1))])] }), { instanceOf: SopsError, message: /not have a string value/ });
});

test('emit with metadata: the JSON envelope, tab or N spaces', (t) => {
  const file = { documents: [map([entry('data', str('ENC[x]'))])], metadata: map([entry('version', str('v'))]) };
  t.is(dec.decode(binaryStore.emit(file)), '{\n\t"data": "ENC[x]",\n\t"sops": {\n\t\t"version": "v"\n\t}\n}\n');
  t.is(dec.decode(binaryStore.emit(file, { indent: 2 })), '{\n  "data": "ENC[x]",\n  "sops": {\n    "version": "v"\n  }\n}\n');
});

test('emitValue is an error', (t) => {
  const e = t.throws(() => binaryStore.emitValue(str('x')), { instanceOf: SopsError });
  t.regex(e!.message, /not structured/);
  t.is(e!.exitCode, 4);
});

sharedTest('vector example.txt (sops 3.5.0): loads; re-emitted only gains the trailing newline', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'example.txt'));
  const f = binaryStore.load(raw, 'encrypted');
  t.regex((get(f.documents[0], 'data') as { value: string }).value, /^ENC\[AES256_GCM,data:.*type:str\]$/);
  const pgp = (get(f.metadata!, 'pgp') as { items: MapNode[] }).items;
  t.is(pgp.length, 2);
  t.deepEqual(get(pgp[0], 'fp'), str('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'));
  t.deepEqual(get(f.metadata!, 'version'), str('3.5.0'));
  t.deepEqual(Buffer.from(binaryStore.emit(f)), Buffer.concat([raw, Buffer.from('\n')]));
});

test('property: plain bytes survive load -> emit; envelopes survive emit -> load (fixed seed)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      t.deepEqual(binaryStore.emit(binaryStore.load(raw, 'plain')), raw);
    }),
    { numRuns: 300, seed: 99 },
  );
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 10 }), (data, version) => {
      const file = { documents: [map([entry('data', str(data))])], metadata: map([entry('version', str(version))]) };
      t.deepEqual(binaryStore.load(binaryStore.emit(file)), file);
    }),
    { numRuns: 300, seed: 100 },
  );
});
