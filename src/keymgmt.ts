/**
 * Key management on encrypted files, as bytes in and bytes out (nothing is written here; the
 * CLI writes the result atomically, so a failure half-way leaves the file as it was):
 *
 * ```ts
 * import { rotate, planUpdateKeys, applyUpdateKeys, addKeyGroup, deleteKeyGroup, fileStatus, listKeys } from 'tsops';
 * const { output } = await rotate(text, { filename: 'app.yaml', add: [{ type: 'age', recipient: 'age1...' }] });
 * const plan = planUpdateKeys(text, { filename: 'app.yaml', rule });   // what would change, no key needed
 * if (plan.changed) await applyUpdateKeys(plan);                        // keeps the data key
 * fileStatus(text, { filename: 'app.yaml' });                           // { encrypted: true }
 * listKeys(text, { filename: 'app.yaml' }).groups;                       // who can decrypt
 * ```
 *
 * Every operation that changes keys recovers the data key first (rotate and groups also decrypt
 * every value and check the MAC; updatekeys, as in sops, does not). Entries of kinds tsops
 * cannot use (gcp_kms, azure_kv, hc_vault, hckms) are kept as they are; an operation that would
 * have to re-wrap one refuses instead of dropping it.
 */
export { rotate, type RotateOptions, type KeyChangeResult } from './keymgmt/rotate.js';
export { planUpdateKeys, applyUpdateKeys, updateKeys, type UpdateKeysOptions, type UpdateKeysPlan, type GroupDiff } from './keymgmt/updatekeys.js';
export { addKeyGroup, deleteKeyGroup, type GroupOptions } from './keymgmt/groups.js';
export { fileStatus, listKeys, type FileStatus, type KeyListing, type ListedKey } from './keymgmt/inspect.js';
export { keyIdentity, specIdentity, parseEncryptionContext, FOREIGN_KINDS } from './keymgmt/identity.js';
export { shareAt } from './keymgmt/shares.js';
export type { KeyMgmtOptions } from './keymgmt/core.js';
