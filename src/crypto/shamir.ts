/**
 * Shamir's secret sharing over GF(2^8) as sops uses it (HashiCorp Vault's variant,
 * sops-format.md §6.4): one random polynomial per secret byte, share i evaluated at x = i+1,
 * the x coordinate appended as the share's last byte.
 */
import { randomBytes } from 'node:crypto';

/** Multiplication in GF(2^8) modulo x^8+x^4+x^3+x+1, without table look-ups. */
export function gfMul(a: number, b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    r ^= -(b & 1) & a;
    const hi = -((a >> 7) & 1) & 0x1b;
    a = ((a << 1) ^ hi) & 0xff;
    b >>= 1;
  }
  return r;
}

/** Multiplicative inverse (a^254); 0 has none and maps to 0. */
function gfInv(a: number): number {
  let r = 1;
  let base = a;
  let e = 254;
  while (e > 0) {
    if (e & 1) r = gfMul(r, base);
    base = gfMul(base, base);
    e >>= 1;
  }
  return r;
}

function gfDiv(a: number, b: number): number {
  if (b === 0) throw new Error('division by zero');
  return gfMul(a, gfInv(b));
}

/** Splits `secret` into `parts` shares, any `threshold` of which recover it. */
export function split(secret: Uint8Array, parts: number, threshold: number, rand: (n: number) => Uint8Array = randomBytes): Uint8Array[] {
  if (parts < threshold) throw new Error('parts cannot be less than threshold');
  if (parts > 255) throw new Error('parts cannot exceed 255');
  if (threshold < 2) throw new Error('threshold must be at least 2');
  if (secret.length === 0) throw new Error('cannot split an empty secret');
  const shares = Array.from({ length: parts }, (_, i) => {
    const s = new Uint8Array(secret.length + 1);
    s[secret.length] = i + 1;
    return s;
  });
  for (let j = 0; j < secret.length; j++) {
    const coeffs = new Uint8Array(threshold);
    coeffs[0] = secret[j]!;
    coeffs.set(rand(threshold - 1), 1);
    for (let i = 0; i < parts; i++) {
      const x = i + 1;
      let y = 0;
      for (let k = threshold - 1; k >= 0; k--) y = gfMul(y, x) ^ coeffs[k]!;
      shares[i]![j] = y;
    }
  }
  return shares;
}

/** Recovers the secret from at least `threshold` shares (all of them are used). */
export function combine(shares: readonly Uint8Array[]): Uint8Array {
  if (shares.length < 2) throw new Error('at least two shares are required');
  const len = shares[0]!.length;
  if (len < 2) throw new Error('shares must be at least two bytes long');
  if (shares.some((s) => s.length !== len)) throw new Error('all shares must be the same length');
  const xs = shares.map((s) => s[len - 1]!);
  if (new Set(xs).size !== xs.length) throw new Error('duplicate share');
  const out = new Uint8Array(len - 1);
  for (let pos = 0; pos < len - 1; pos++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (i === j) continue;
        basis = gfMul(basis, gfDiv(xs[j]!, xs[i]! ^ xs[j]!));
      }
      acc ^= gfMul(shares[i]![pos]!, basis);
    }
    out[pos] = acc;
  }
  return out;
}
