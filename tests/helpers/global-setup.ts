import fs from 'node:fs';
import path from 'node:path';

/** Integration tests run the built Astro handler: fail early with the fix, not deep inside a test. */
export default function setup(): void {
  const entry = path.resolve('dist/server/entry.mjs');
  if (!fs.existsSync(entry)) {
    throw new Error('dist/server/entry.mjs is missing: run `npm run build` first (`npm test` does it for you).');
  }
}
