/**
 * The per-value work of {@link GcmBatch}'s packed methods in WebAssembly: counter blocks,
 * GHASH (8-bit tables, Shoup's method, the tables gcm.ts builds), the constant-time tag check
 * and the XOR with the key stream. The JavaScript versions in gcm.ts are only fast once V8 has
 * optimized them, which a CLI run that decrypts one file never waits for: for 10,000 values
 * most of their time went to unoptimized code. WebAssembly is compiled before it first runs.
 * The AES block encryptions stay with node:crypto (one AES-256-ECB call per batch).
 *
 * Functions (memory addresses and lengths are i32):
 * - `absorb(ptr, len)`: y = (y ^ block)·H for each 16-byte block of `[ptr, ptr+len)`, the last
 *   one zero-padded;
 * - `ghash(p1, n1, p2, n2, l1, l2)`: y = GHASH of two zero-padded inputs and the length block;
 * - `ctr(...)`: J0 and the counter blocks of every value; `open(...)` / `seal(...)`: the rest.
 *
 * The module is assembled here from its opcodes (no build step, no dependency); the tests
 * compare every result with node:crypto.
 */

// The function bodies below are built only when the module is first needed (small files never need it).

/** Memory layout: the tables, the state y (16 bytes, big-endian), a spare block, then data. */
const M8 = 0;
const R8 = 4096;
const STATE = 5120;
const SPARE = 5136;
const DATA = 5152;
const PAGE = 65536;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};

const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};

// opcodes
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, SELECT = 0x1b;
const GET = 0x20, SET = 0x21, CONST = 0x41, LOAD = 0x28, LOAD8 = 0x2d, STORE8 = 0x3a;
const GE_S = 0x4e, GE_U = 0x4f, LT_U = 0x49, ADD = 0x6a, SUB = 0x6b, AND = 0x71, OR = 0x72, XOR = 0x73, SHL = 0x74, SHR_U = 0x76;
const CALL = 0x10, STORE = 0x36, EQZ = 0x45, MUL = 0x6c, RETURN = 0x0f;
const VOID = 0x40, I32 = 0x7f;

// locals: 0 ptr, 1 len (params); 2 end, 3 i, 4 b, 5-8 z0-z3, 9 rem
const P = 0, LEN = 1, E = 2, I = 3, B = 4, Z0 = 5, Z1 = 6, Z2 = 7, Z3 = 8, REM = 9;

const get = (l: number) => [GET, l];
const set = (l: number) => [SET, l];
const c = (n: number) => [CONST, ...sleb(n)];
const load = (offset: number) => [LOAD, 2, ...uleb(offset)];
const load8 = (offset: number) => [LOAD8, 0, ...uleb(offset)];
const store8 = (offset: number) => [STORE8, 0, ...uleb(offset)];

/** `z_hi:z_lo >>> 8` for one word: (lo >>> 8) | (hi << 24). */
const shiftWord = (lo: number, hi: number) => [...get(lo), ...c(8), SHR_U, ...get(hi), ...c(24), SHL, OR, ...set(lo)];
/** z_w ^= m8[b + 4w] (b already times 16). */
const xorTable = (z: number, w: number) => [...get(z), ...get(B), ...load(M8 + 4 * w), XOR, ...set(z)];
/** state byte k = z_w >>> shift. */
const storeByte = (k: number, z: number, shift: number) => [...c(0), ...get(z), ...c(shift), SHR_U, ...store8(STATE + k)];

const absorbBody = (): number[] => [
  // end = ptr + len
  ...get(P), ...get(LEN), ADD, ...set(E),
  BLOCK, VOID,
  LOOP, VOID,
  ...get(P), ...get(E), GE_U, BR_IF, 1,
  ...c(0), ...set(Z0), ...c(0), ...set(Z1), ...c(0), ...set(Z2), ...c(0), ...set(Z3),
  ...c(15), ...set(I),
  LOOP, VOID,
  // z = z·x^8: shift right by one byte, fold the byte shifted out back in
  ...get(Z3), ...c(255), AND, ...set(REM),
  ...shiftWord(Z3, Z2), ...shiftWord(Z2, Z1), ...shiftWord(Z1, Z0),
  ...get(Z0), ...c(8), SHR_U, ...get(REM), ...c(2), SHL, ...load(R8), XOR, ...set(Z0),
  // b = (block byte i, 0 past the end) ^ y byte i; z ^= m8[b]
  ...get(P), ...get(I), ADD, ...load8(0), ...c(0), ...get(P), ...get(I), ADD, ...get(E), LT_U, SELECT,
  ...get(I), ...load8(STATE), XOR, ...c(4), SHL, ...set(B),
  ...xorTable(Z0, 0), ...xorTable(Z1, 1), ...xorTable(Z2, 2), ...xorTable(Z3, 3),
  ...get(I), ...c(1), SUB, ...set(I),
  ...get(I), ...c(0), GE_S, BR_IF, 0,
  END,
  // y = z, big-endian
  ...[Z0, Z1, Z2, Z3].flatMap((z, w) => [...storeByte(4 * w, z, 24), ...storeByte(4 * w + 1, z, 16), ...storeByte(4 * w + 2, z, 8), ...storeByte(4 * w + 3, z, 0)]),
  ...get(P), ...c(16), ADD, ...set(P),
  BR, 0,
  END,
  END,
  END,
];

const store = (offset: number) => [STORE, 2, ...uleb(offset)];
/** A counted loop: `while (get(l) < limit) { ...inner; l += step }` (unsigned compare). */
const whileBelow = (l: number, limit: number[], inner: number[], step = 1) => [
  BLOCK, VOID, LOOP, VOID,
  ...get(l), ...limit, GE_U, BR_IF, 1,
  ...inner,
  ...get(l), ...c(step), ADD, ...set(l),
  BR, 0, END, END,
];
/** Stores the 32-bit value on top of `value` big-endian at address `addr` (+ offset). */
const storeBE = (addr: number[], value: number[], offset = 0) =>
  [24, 16, 8, 0].flatMap((shift, k) => [...addr, ...value, ...c(shift), SHR_U, ...store8(offset + k)]);

// ghash(p1, n1, p2, n2, l1, l2): y = GHASH of [p1, p1+n1) and [p2, p2+n2), each zero-padded, then
// the length block (l1, l2 bytes, as 64-bit bit counts). The tag of (AAD, ciphertext) is
// ghash(aad, n, data, m, n, m); the pre-counter block J0 of an IV is ghash(iv, n, 0, 0, 0, n).
const [G_P1, G_N1, G_P2, G_N2, G_L1, G_L2] = [0, 1, 2, 3, 4, 5];
const ghashBody = (): number[] => [
  ...[0, 4, 8, 12].flatMap((o) => [...c(0), ...c(0), ...store(STATE + o)]),
  ...get(G_P1), ...get(G_N1), CALL, 0,
  ...get(G_P2), ...get(G_N2), CALL, 0,
  ...storeBE(c(0), [...get(G_L1), ...c(29), SHR_U], SPARE),
  ...storeBE(c(0), [...get(G_L1), ...c(3), SHL], SPARE + 4),
  ...storeBE(c(0), [...get(G_L2), ...c(29), SHR_U], SPARE + 8),
  ...storeBE(c(0), [...get(G_L2), ...c(3), SHL], SPARE + 12),
  ...c(SPARE), ...c(16), CALL, 0,
  END,
];

// ctr(count, ivs, ivLen, dataOff, blocks) -> bytes written: for each value, J0 and the counter
// blocks inc32(J0), inc32²(J0), ... (one per 16 bytes of its data; dataOff: count+1 i32 offsets).
const [C_COUNT, C_IVS, C_IVLEN, C_DOFF, C_BLOCKS, C_V, C_OFF, C_N, C_K, C_CTR] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
/** Copies the first `words` words of the state (J0) to the block at `off`. */
const copyJ0 = (words: number) => Array.from({ length: words }, (_, w) => [...get(C_OFF), ...c(0), ...load(STATE + 4 * w), ...store(4 * w)]).flat();
const ctrBody = (): number[] => [
  ...get(C_BLOCKS), ...set(C_OFF),
  ...whileBelow(C_V, get(C_COUNT), [
    ...get(C_IVS), ...get(C_V), ...get(C_IVLEN), MUL, ADD, ...get(C_IVLEN), ...c(0), ...c(0), ...c(0), ...get(C_IVLEN), CALL, 1,
    ...copyJ0(4),
    // ctr = the last word of J0, big-endian
    ...c(0), ...load8(STATE + 12), ...c(24), SHL, ...c(0), ...load8(STATE + 13), ...c(16), SHL, OR,
    ...c(0), ...load8(STATE + 14), ...c(8), SHL, OR, ...c(0), ...load8(STATE + 15), OR, ...set(C_CTR),
    // n = ceil(length / 16)
    ...get(C_DOFF), ...get(C_V), ...c(2), SHL, ADD, ...load(4), ...get(C_DOFF), ...get(C_V), ...c(2), SHL, ADD, ...load(0), SUB,
    ...c(15), ADD, ...c(4), SHR_U, ...set(C_N),
    ...get(C_OFF), ...c(16), ADD, ...set(C_OFF),
    ...c(0), ...set(C_K),
    ...whileBelow(C_K, get(C_N), [
      ...copyJ0(3),
      ...get(C_CTR), ...c(1), ADD, ...set(C_CTR),
      ...storeBE(get(C_OFF), get(C_CTR), 12),
      ...get(C_OFF), ...c(16), ADD, ...set(C_OFF),
    ]),
  ]),
  ...get(C_OFF), ...get(C_BLOCKS), SUB, RETURN,
  END,
];

// open(count, aad, aadOff, data, dataOff, stream, tags, plain, ok): for each value, its tag
// compared in constant time (ok[v] = 1 when it matches) and its plaintext (zeros when not).
// `stream` holds per value E(J0) and then the key stream blocks, as ctr() laid them out.
const [O_COUNT, O_AAD, O_AOFF, O_DATA, O_DOFF, O_STREAM, O_TAGS, O_PLAIN, O_OK] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const [O_V, O_S, O_A0, O_A1, O_D0, O_D1, O_DIFF, O_K, O_GOOD, O_J] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18];
const word = (base: number, index: number, offset: number) => [...get(base), ...get(index), ...c(2), SHL, ADD, ...load(offset)];
const openBody = (): number[] => [
  ...get(O_STREAM), ...set(O_S),
  ...whileBelow(O_V, get(O_COUNT), [
    ...word(O_AOFF, O_V, 0), ...set(O_A0), ...word(O_AOFF, O_V, 4), ...set(O_A1),
    ...word(O_DOFF, O_V, 0), ...set(O_D0), ...word(O_DOFF, O_V, 4), ...set(O_D1),
    ...get(O_AAD), ...get(O_A0), ADD, ...get(O_A1), ...get(O_A0), SUB,
    ...get(O_DATA), ...get(O_D0), ADD, ...get(O_D1), ...get(O_D0), SUB,
    ...get(O_A1), ...get(O_A0), SUB, ...get(O_D1), ...get(O_D0), SUB, CALL, 1,
    ...c(0), ...set(O_DIFF), ...c(0), ...set(O_K),
    ...whileBelow(O_K, c(16), [
      ...get(O_DIFF),
      ...get(O_K), ...load8(STATE),
      ...get(O_S), ...get(O_K), ADD, ...load8(0), XOR,
      ...get(O_TAGS), ...get(O_V), ...c(4), SHL, ADD, ...get(O_K), ADD, ...load8(0), XOR,
      OR, ...set(O_DIFF),
    ]),
    ...get(O_DIFF), EQZ, ...set(O_GOOD),
    ...get(O_OK), ...get(O_V), ADD, ...get(O_GOOD), ...store8(0),
    ...get(O_D0), ...set(O_K), ...get(O_S), ...c(16), ADD, ...set(O_J),
    ...whileBelow(O_K, get(O_D1), [
      ...get(O_PLAIN), ...get(O_K), ADD,
      ...get(O_DATA), ...get(O_K), ADD, ...load8(0), ...get(O_J), ...load8(0), XOR, ...c(0), ...get(O_GOOD), SELECT,
      ...store8(0),
      ...get(O_J), ...c(1), ADD, ...set(O_J),
    ]),
    // s += 16 + the value's blocks
    ...get(O_S), ...c(16), ADD, ...get(O_D1), ...get(O_D0), SUB, ...c(15), ADD, ...c(-16), AND, ADD, ...set(O_S),
  ]),
  END,
];

// seal(count, aad, aadOff, data, dataOff, stream, out, tags): for each value, its ciphertext
// (data ^ key stream) to out and its tag (GHASH(aad, ciphertext) ^ E(J0)) to tags.
const [S_COUNT, S_AAD, S_AOFF, S_DATA, S_DOFF, S_STREAM, S_OUT, S_TAGS] = [0, 1, 2, 3, 4, 5, 6, 7];
const [S_V, S_S, S_A0, S_A1, S_D0, S_D1, S_K, S_J] = [8, 9, 10, 11, 12, 13, 14, 15];
const sealBody = (): number[] => [
  ...get(S_STREAM), ...set(S_S),
  ...whileBelow(S_V, get(S_COUNT), [
    ...word(S_AOFF, S_V, 0), ...set(S_A0), ...word(S_AOFF, S_V, 4), ...set(S_A1),
    ...word(S_DOFF, S_V, 0), ...set(S_D0), ...word(S_DOFF, S_V, 4), ...set(S_D1),
    ...get(S_D0), ...set(S_K), ...get(S_S), ...c(16), ADD, ...set(S_J),
    ...whileBelow(S_K, get(S_D1), [
      ...get(S_OUT), ...get(S_K), ADD,
      ...get(S_DATA), ...get(S_K), ADD, ...load8(0), ...get(S_J), ...load8(0), XOR,
      ...store8(0),
      ...get(S_J), ...c(1), ADD, ...set(S_J),
    ]),
    ...get(S_AAD), ...get(S_A0), ADD, ...get(S_A1), ...get(S_A0), SUB,
    ...get(S_OUT), ...get(S_D0), ADD, ...get(S_D1), ...get(S_D0), SUB,
    ...get(S_A1), ...get(S_A0), SUB, ...get(S_D1), ...get(S_D0), SUB, CALL, 1,
    ...c(0), ...set(S_K),
    ...whileBelow(S_K, c(16), [
      ...get(S_TAGS), ...get(S_V), ...c(4), SHL, ADD, ...get(S_K), ADD,
      ...get(S_K), ...load8(STATE), ...get(S_S), ...get(S_K), ADD, ...load8(0), XOR,
      ...store8(0),
    ]),
    ...get(S_S), ...c(16), ADD, ...get(S_D1), ...get(S_D0), SUB, ...c(15), ADD, ...c(-16), AND, ADD, ...set(S_S),
  ]),
  END,
];

const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const fn = (locals: number, body: number[]) => {
    const code = locals > 0 ? [1, locals, I32, ...body] : [0, ...body];
    return [...uleb(code.length), ...code];
  };
  const type = (params: number, results: number) => [0x60, params, ...Array<number>(params).fill(I32), results, ...Array<number>(results).fill(I32)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [5, ...type(2, 0), ...type(6, 0), ...type(5, 1), ...type(9, 0), ...type(8, 0)]),
    ...section(3, [5, 0, 1, 2, 3, 4]), // absorb, ghash, ctr, open, seal
    ...section(5, [1, 0x00, 1]), // one memory, at least one page
    ...section(7, [5, ...name('absorb'), 0x00, 0, ...name('ctr'), 0x00, 2, ...name('open'), 0x00, 3, ...name('seal'), 0x00, 4, ...name('memory'), 0x02, 0]),
    ...section(10, [5, ...fn(8, absorbBody()), ...fn(0, ghashBody()), ...fn(5, ctrBody()), ...fn(10, openBody()), ...fn(8, sealBody())]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/** One H's GHASH in WebAssembly memory. */
export class WasmGhash {
  private readonly memory: WebAssembly.Memory;
  private readonly absorbFn: (ptr: number, len: number) => void;
  private readonly ctrFn: (count: number, ivs: number, ivLen: number, dataOff: number, blocks: number) => number;
  private readonly sealFn: (count: number, aad: number, aadOff: number, data: number, dataOff: number, stream: number, out: number, tags: number) => void;
  private readonly openFn: (count: number, aad: number, aadOff: number, data: number, dataOff: number, stream: number, tags: number, plain: number, ok: number) => void;
  /** A view of the whole memory (renewed when it grows). */
  bytes: Uint8Array;

  private constructor(instance: WebAssembly.Instance, m8: Int32Array, r8: Int32Array) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.absorbFn = instance.exports.absorb as (ptr: number, len: number) => void;
    this.ctrFn = instance.exports.ctr as WasmGhash['ctrFn'];
    this.openFn = instance.exports.open as WasmGhash['openFn'];
    this.sealFn = instance.exports.seal as WasmGhash['sealFn'];
    this.bytes = new Uint8Array(this.memory.buffer);
    new Int32Array(this.memory.buffer, M8, 1024).set(m8);
    new Int32Array(this.memory.buffer, R8, 256).set(r8);
  }

  /**
   * A GHASH for the tables of {@link GcmBatch} (m8: i·H, 4 words per byte value; r8: the
   * reductions), or undefined where WebAssembly is not available (or memory is big-endian).
   */
  static create(m8: Int32Array, r8: Int32Array): WasmGhash | undefined {
    if (compiled === undefined) {
      compiled = null;
      try {
        if (typeof WebAssembly === 'object' && new Uint8Array(new Uint32Array([1]).buffer)[0] === 1) compiled = new WebAssembly.Module(moduleBytes());
      } catch {
        // the JavaScript GHASH is used
      }
    }
    if (!compiled) return undefined;
    try {
      return new WasmGhash(new WebAssembly.Instance(compiled, {}), m8, r8);
    } catch {
      return undefined;
    }
  }

  /**
   * Makes room for `n` bytes of data after the tables (plus a spare block);
   * returns that offset, or -1 when the memory cannot grow that far (the caller then uses
   * the JavaScript GHASH).
   */
  reserve(n: number): number {
    const need = DATA + n + 16;
    const have = this.memory.buffer.byteLength;
    if (need > have) {
      try {
        this.memory.grow(Math.ceil((need - have) / PAGE));
      } catch {
        return -1;
      }
    }
    if (this.bytes.buffer !== this.memory.buffer || this.bytes.length !== this.memory.buffer.byteLength) this.bytes = new Uint8Array(this.memory.buffer);
    return DATA;
  }

  /**
   * Opens packed AES-GCM values (see gcm.ts `PackedValues`; IVs of any length but 12 bytes)
   * with the counter blocks, GHASH, tag check and decryption all done here; `encryptBlocks`
   * is the AES-256-ECB of the key. Returns undefined when the memory cannot hold the batch.
   */
  openPacked(p: Packed, encryptBlocks: (blocks: Uint8Array) => Uint8Array): { plain: Buffer; ok: Uint8Array } | undefined {
    const r = this.run(p, encryptBlocks, false);
    return r && { plain: r.data, ok: r.flags };
  }

  /** Seals packed values as {@link openPacked} opens them: returns ciphertexts and tags. */
  sealPacked(p: Packed, encryptBlocks: (blocks: Uint8Array) => Uint8Array): { data: Buffer; tags: Buffer } | undefined {
    const r = this.run(p, encryptBlocks, true);
    return r && { data: r.data, tags: Buffer.from(r.flags) };
  }

  private run(p: Packed, encryptBlocks: (blocks: Uint8Array) => Uint8Array, seal: boolean): { data: Buffer; flags: Uint8Array } | undefined {
    const { count, ivLength, data } = p;
    const ivBytes = count * ivLength;
    // at most two blocks per value beyond its data's: J0 and a partial last block
    const blockBytes = (2 * count + Math.ceil(data.length / 16)) * 16;
    let o = 0;
    const next = (n: number, align = 1): number => {
      o = Math.ceil(o / align) * align;
      const here = o;
      o += n;
      return here;
    };
    const at = {
      ivs: next(ivBytes), aad: next(p.aad.length), data: next(data.length),
      aadOff: next(4 * (count + 1), 4), dataOff: next(4 * (count + 1), 4), tags: next(16 * count),
      blocks: next(blockBytes, 16), stream: next(blockBytes, 16), out: next(data.length), ok: next(count),
    };
    const base = this.reserve(o);
    if (base < 0) return undefined;
    const m = this.bytes;
    m.set(p.ivs.subarray(0, ivBytes), base + at.ivs);
    m.set(p.aad, base + at.aad);
    m.set(data, base + at.data);
    new Int32Array(m.buffer, base + at.aadOff, count + 1).set(p.aadOff.subarray(0, count + 1));
    new Int32Array(m.buffer, base + at.dataOff, count + 1).set(p.dataOff.subarray(0, count + 1));
    if (!seal) m.set(p.tags.subarray(0, 16 * count), base + at.tags);
    const used = this.ctrFn(count, base + at.ivs, ivLength, base + at.dataOff, base + at.blocks);
    const stream = encryptBlocks(m.subarray(base + at.blocks, base + at.blocks + used));
    if (stream.length !== used) throw new Error('GCM: the block cipher returned a short key stream');
    m.set(stream, base + at.stream);
    const out = (): Buffer => Buffer.from(m.subarray(base + at.out, base + at.out + data.length));
    if (seal) {
      this.sealFn(count, base + at.aad, base + at.aadOff, base + at.data, base + at.dataOff, base + at.stream, base + at.out, base + at.tags);
      return { data: out(), flags: m.slice(base + at.tags, base + at.tags + 16 * count) };
    }
    this.openFn(count, base + at.aad, base + at.aadOff, base + at.data, base + at.dataOff, base + at.stream, base + at.tags, base + at.out, base + at.ok);
    return { data: out(), flags: m.slice(base + at.ok, base + at.ok + count) };
  }
}

/** Packed values, as gcm.ts `PackedValues` (`tags` unused when sealing). */
type Packed = { count: number; ivLength: number; ivs: Uint8Array; aad: Uint8Array; aadOff: Int32Array; data: Uint8Array; dataOff: Int32Array; tags: Uint8Array };
