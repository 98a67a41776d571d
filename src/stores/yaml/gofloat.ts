/**
 * Go's `strconv.FormatFloat(f, 'g', -1, 64)`, the spelling go-yaml uses for floats, with
 * go-yaml's `.inf`, `-.inf`, `.nan` replacements.
 */

/** Shortest round-trip digits and decimal exponent (`d.ddd × 10^exp`) of a finite non-zero |f|. */
function shortestDigits(f: number): { digits: string; exp: number } {
  const [mant, e] = Math.abs(f).toExponential().split('e') as [string, string];
  return { digits: mant.replace('.', ''), exp: Number(e) };
}

/** `strconv.FormatFloat(f, 'g', -1, 64)`. */
export function goFormatFloatG(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const sign = f < 0 || Object.is(f, -0) ? '-' : '';
  if (f === 0) return sign + '0';
  // %f range (decimal exponent -4 to 5): JS writes the same shortest digits the same way
  const abs = Math.abs(f);
  if (abs >= 1e-4 && abs < 1e6) return String(f);
  const { digits, exp } = shortestDigits(f);
  if (exp < -4 || exp >= 6) {
    // %e: d[.ddd]e±dd
    const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const a = Math.abs(exp);
    return `${sign}${mant}e${exp < 0 ? '-' : '+'}${a < 10 ? '0' + a : String(a)}`;
  }
  // %f without trailing zeros
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return sign + digits + '0'.repeat(exp + 1 - digits.length);
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

/** go-yaml's float text: `FormatFloat(f,'g',-1,64)` with `.inf`, `-.inf`, `.nan`. */
export function yamlFloatText(f: number): string {
  if (Number.isNaN(f)) return '.nan';
  if (f === Infinity) return '.inf';
  if (f === -Infinity) return '-.inf';
  return goFormatFloatG(f);
}
