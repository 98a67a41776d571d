// Tampered tsops files are rejected by the real sops 3.9.2 engine (exit 1, with sops's own
// error) and by tsops (25: a value does not decrypt, 51: the MAC does not match): a flipped
// character in a value's data, a changed clear-text value, a removed key, for every format.
import type { ExecutionContext } from 'ava';
import type { FormatName } from '../../src/stores/types.js';
import { ageContext, encryptAndOracle, encryptFor, flipData, replaceOnce, sharedAgeKey, tsopsDecryptCode } from '../helpers/interop.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedTest } from '../helpers/shared.js';

interface Case {
  plain: string;
  /** Removes the encrypted entry `other` from the encrypted text. */
  removeKey: RegExp;
}

const CASES: Record<Exclude<FormatName, 'binary'>, Case> = {
  yaml: { plain: 'secret: s3cr3t\nother: value\nplain_unencrypted: visible\nnested:\n    k: v\n', removeKey: /^other: .*\n/m },
  json: { plain: '{"secret": "s3cr3t", "other": "value", "plain_unencrypted": "visible", "nested": {"k": "v"}}', removeKey: /^\t"other": .*\n/m },
  dotenv: { plain: 'SECRET=s3cr3t\nother=value\nPLAIN_unencrypted=visible\n', removeKey: /^other=.*\n/m },
  ini: { plain: '[s]\nsecret = s3cr3t\nother = value\nplain_unencrypted = visible\n', removeKey: /^other +=.*\n/m },
};

const SOPS_VALUE_ERROR = /Could not decrypt value: Could not decrypt with AES_GCM: cipher: message authentication failed/;
const SOPS_MAC_ERROR = /Failed to verify data integrity/;

async function expectRejected(t: ExecutionContext, tampered: string, format: FormatName, what: string, sopsError: RegExp, tsopsCode: number) {
  const key = await sharedAgeKey();
  const r = await runOracle(tampered, { format, ageKey: key.identity });
  t.is(r.code, 1, `sops 3.9.2 accepted the file with ${what}`);
  t.is(r.stdout, '', 'no plaintext from sops');
  t.regex(r.stderr, sopsError, `sops's error for ${what}`);
  const own = await tsopsDecryptCode(tampered, format, ageContext(key.identity));
  t.is(own.code, tsopsCode, `tsops on ${what}: ${own.message}`);
}

for (const [format, c] of Object.entries(CASES) as Array<[Exclude<FormatName, 'binary'>, Case]>) {
  sharedTest(`${format}: a flipped data character, a changed clear value and a removed key are rejected by sops 3.9.2 and tsops`, async (t) => {
    const { enc, oracle, ctx } = await encryptAndOracle(c.plain, format, await sharedAgeKey());
    t.is(oracle.code, 0, `the untouched file must decrypt:\n${oracle.stderr}`);
    t.is((await tsopsDecryptCode(enc, format, ctx)).code, 0);
    await expectRejected(t, flipData(enc, 0), format, 'a flipped data character', SOPS_VALUE_ERROR, 25);
    await expectRejected(t, replaceOnce(enc, 'visible', 'tampered'), format, 'a changed clear value', SOPS_MAC_ERROR, 51);
    await expectRejected(t, replaceOnce(enc, c.removeKey, ''), format, 'a removed key', SOPS_MAC_ERROR, 51);
  });
}

sharedTest('binary: a flipped data character is rejected by sops 3.9.2 and tsops', async (t) => {
  const { enc, oracle, ctx } = await encryptAndOracle('some binary content\n', 'binary', await sharedAgeKey());
  t.is(oracle.code, 0, oracle.stderr);
  t.is((await tsopsDecryptCode(enc, 'binary', ctx)).code, 0);
  await expectRejected(t, flipData(enc, 0), 'binary', 'a flipped data character', SOPS_VALUE_ERROR, 25);
});

sharedTest('yaml: a key removed from the second document is rejected (the MAC covers every document)', async (t) => {
  const { enc, oracle } = await encryptAndOracle('a: 1\n---\nb: 2\nc: 3\n', 'yaml', await sharedAgeKey());
  t.is(oracle.code, 0, oracle.stderr);
  await expectRejected(t, replaceOnce(enc, /^c: ENC.*\n/m, ''), 'yaml', 'a key removed from document 2', SOPS_MAC_ERROR, 51);
});

sharedTest('yaml: a changed lastmodified is rejected (it is the additional data of the MAC)', async (t) => {
  const { enc } = await encryptFor('a: 1\n', 'yaml', await sharedAgeKey());
  const tampered = enc.replace(/lastmodified: "(\d{4})/, (_m, y: string) => `lastmodified: "${Number(y) - 1}`);
  t.not(tampered, enc);
  await expectRejected(t, tampered, 'yaml', 'a changed lastmodified', /Failed to decrypt original mac/, 51);
});
