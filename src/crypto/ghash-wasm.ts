/**
 * GHASH (the authentication half of AES-GCM) in a small WebAssembly function, for
 * {@link GcmBatch}. The JavaScript version in gcm.ts is only fast once V8 has optimized it,
 * which a CLI run that decrypts one file never waits for: for 10,000 values most of its time
 * went to unoptimized code. WebAssembly is compiled to machine code before it first runs.
 *
 * The function is the same 8-bit table method (Shoup's) as the JavaScript one, with the same
 * tables: `absorb(ptr, len)` sets y = (y ^ block)·H for each 16-byte block of memory
 * `[ptr, ptr+len)`, the last one zero-padded. The module is assembled here from its opcodes
 * (no build step, no dependency); the tests compare the results with node:crypto.
 */

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

const body: number[] = [
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

const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const code = [1, 8, I32, ...body]; // one local declaration: 8 x i32
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 2, I32, I32, 0]), // type: (i32, i32) -> ()
    ...section(3, [1, 0]), // one function of that type
    ...section(5, [1, 0x00, 1]), // one memory, at least one page
    ...section(7, [2, ...name('absorb'), 0x00, 0, ...name('memory'), 0x02, 0]),
    ...section(10, [1, ...uleb(code.length), ...code]),
  ]);
}

let compiled: WebAssembly.Module | null | undefined;

/** One H's GHASH in WebAssembly memory. */
export class WasmGhash {
  private readonly memory: WebAssembly.Memory;
  private readonly absorbFn: (ptr: number, len: number) => void;
  /** A view of the whole memory (renewed when it grows). */
  bytes: Uint8Array;

  private constructor(instance: WebAssembly.Instance, m8: Int32Array, r8: Int32Array) {
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.absorbFn = instance.exports.absorb as (ptr: number, len: number) => void;
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
   * Makes room for `n` bytes of data from offset {@link DATA_OFFSET} (plus a spare block);
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

  reset(): void {
    this.bytes.fill(0, STATE, STATE + 16);
  }

  /** y = (y ^ block)·H for the blocks of memory `[ptr, ptr+len)`. */
  absorb(ptr: number, len: number): void {
    this.absorbFn(ptr, len);
  }

  /** Absorbs the length block: the bit lengths of the additional data and of the ciphertext. */
  lengths(aBytes: number, cBytes: number): void {
    const b = this.bytes;
    const a = aBytes * 8;
    const c = cBytes * 8;
    put32(b, SPARE, Math.floor(a / 0x100000000));
    put32(b, SPARE + 4, a >>> 0);
    put32(b, SPARE + 8, Math.floor(c / 0x100000000));
    put32(b, SPARE + 12, c >>> 0);
    this.absorbFn(SPARE, 16);
  }

  /** Word `w` (0-3) of y, as a big-endian 32-bit value. */
  y(w: number): number {
    const b = this.bytes;
    const o = STATE + 4 * w;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }
}

/** Where data starts in the memory (see {@link WasmGhash.reserve}). */
export const DATA_OFFSET = DATA;

function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 0xff;
  b[off + 2] = (v >>> 8) & 0xff;
  b[off + 3] = v & 0xff;
}
