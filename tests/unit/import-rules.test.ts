import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of `src/lib` as a rule (issue 14): the domain never reaches into the web layer
 * or the composition root, and provider clients speak only their own errors. A new import
 * that breaks it fails here, naming the file and the import.
 */

const LIB = path.resolve('src/lib');
const DOMAIN = ['generation', 'billing', 'auth', 'admin', 'prompt', 'uploads', 'video', 'providers'];
const IMPORT = /(?:\bimport|\bexport)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g;

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|mts|astro)$/.test(entry.name) ? [full] : [];
  });
}

/** Every relative import in src/lib, as paths relative to src/lib (`generation/worker.ts` → `tasks.ts`). */
function libImports(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sourceFiles(LIB)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? match[3]!;
      if (!specifier.startsWith('.')) continue;
      edges.push({
        from: path.relative(LIB, file).split(path.sep).join('/'),
        to: path.relative(LIB, path.resolve(path.dirname(file), specifier)).split(path.sep).join('/'),
      });
    }
  }
  return edges;
}

const topFolder = (relative: string) => relative.split('/')[0]!;
const describeEdge = (edge: Edge) => `${edge.from} → ${edge.to}`;

describe('import rules of src/lib', () => {
  const edges = libImports();

  it('reads the imports it checks (the composition root imports the worker)', () => {
    expect(edges).toContainEqual({ from: 'context.ts', to: 'generation/worker.ts' });
    expect(edges.length).toBeGreaterThan(200);
  });

  it('nothing in src/lib imports the composition root (context.ts)', () => {
    const offending = edges.filter((edge) => edge.to === 'context.ts' && edge.from !== 'context.ts').map(describeEdge);
    expect(offending).toEqual([]);
  });

  it('domain folders never import the web layer (src/lib/http) or Astro', () => {
    const domainFiles = sourceFiles(LIB).filter((file) => DOMAIN.includes(topFolder(path.relative(LIB, file))));
    const astro = domainFiles.filter((file) => /from\s*['"]astro(?:[/'"])/.test(fs.readFileSync(file, 'utf8')));
    const offending = edges
      .filter((edge) => DOMAIN.includes(topFolder(edge.from)) && topFolder(edge.to) === 'http')
      .map(describeEdge);
    expect([...offending, ...astro.map((file) => path.relative(LIB, file))]).toEqual([]);
  });

  it('provider clients throw their own typed errors and know no service', () => {
    const services = ['generation', 'billing', 'auth', 'admin', 'prompt', 'uploads', 'video', 'http', 'notify', 'metrics'];
    const offending = edges
      .filter((edge) => topFolder(edge.from) === 'providers')
      .filter((edge) => edge.to === 'errors.ts' || edge.to === 'context.ts' || services.includes(topFolder(edge.to)))
      .map(describeEdge);
    expect(offending).toEqual([]);
  });
});
