/**
 * Loading the packages tsops only needs now and then (yargs for the full command line,
 * age-encryption for uncommon age keys, the AWS SDK for KMS keys) on first use.
 *
 * The bundled CLI (`bin/tsops.js`) replaces the importer, so that these come from its own
 * pre-bundled copies (see `package.json` `bundle`); everywhere else it is plain `import()`.
 */

type Importer = (name: string) => Promise<unknown>;

let importer: Importer = (name) => import(name);

/** Loads an ES module by package name. */
export function importPackage<T>(name: string): Promise<T> {
  return importer(name) as Promise<T>;
}

/** Sets how {@link importPackage} loads packages (the bundled CLI does). */
export function setPackageImporter(fn: Importer): void {
  importer = fn;
}
