/** Key contexts for tests: the production one over a given environment and home. */
export { makeKeyContext } from '../../src/io/context.js';
