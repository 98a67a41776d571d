/**
 * Making text that came from outside (a key service's error message, a program's stderr) safe
 * to show: one printable line, bounded in length, with secrets and key material removed.
 */

/** Longest text taken from a key service's message or a program's stderr. */
export const MAX_OUTSIDE_TEXT = 300;

/**
 * One printable line: control and bidi characters become spaces (so no terminal escape
 * sequence gets through), runs of spaces collapse, and the text is cut to `max` characters.
 */
export function printableLine(text: string, max = MAX_OUTSIDE_TEXT): string {
  const clean = text
    // whole escape sequences first (colours, cursor moves, window titles), then single characters
    // eslint-disable-next-line no-control-regex
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max)}... (cut)` : clean;
}

/** Replaces every occurrence of each secret (of at least 4 characters) with `[redacted]`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * Removes key material by its shape: age identities (`AGE-SECRET-KEY-...`, `AGE-PLUGIN-...`)
 * and PEM / OpenPGP private key blocks (whole or cut off).
 */
export function redactKeyMaterial(text: string): string {
  return text
    .replace(/AGE-(SECRET-KEY-(PQ-)?|PLUGIN-[A-Z0-9]+-)1[A-Z0-9]*/gi, '[redacted age identity]')
    .replace(/-----BEGIN ([A-Z0-9 ]*PRIVATE KEY( BLOCK)?)-----[\s\S]*?(-----END \1-----|$)/g, '[redacted private key]');
}

/** {@link printableLine} of text with key material and the given secrets removed. */
export function outsideText(text: string, secrets: readonly string[] = [], max = MAX_OUTSIDE_TEXT): string {
  // redact before cutting, so that a cut cannot leave an unrecognizable prefix of a secret
  return printableLine(redactKeyMaterial(redact(text, secrets)), max);
}

/** The spellings of a data key a server might echo back: base64 (with and without padding) and hex. */
export function dataKeySpellings(key: Uint8Array): string[] {
  const b = Buffer.from(key);
  const b64 = b.toString('base64');
  return [b64, b64.replace(/=+$/, ''), b.toString('base64url').replace(/=+$/, ''), b.toString('hex'), b.toString('hex').toUpperCase()];
}
