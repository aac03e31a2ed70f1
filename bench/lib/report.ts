import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every benchmark reports: one figure, the baseline it is compared with (measured in
 * the same run on the same machine), their ratio, and the target. Pass/fail is decided on
 * ratios and on budgets the issue sets, never on raw speed: the machine is shared.
 */
export interface BenchResult {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  baseline: { label: string; value: number } | null;
  /** value ÷ baseline, when a baseline applies. */
  ratio: number | null;
  target: string;
  /** null: reported only (no target in the issue). */
  pass: boolean | null;
  /**
   * An absolute time (a p99, ms per job) compared with its target: shown as within or over
   * it, but never a pass/fail, because on a shared machine it measures the neighbours too.
   */
  timing?: boolean;
  note?: string;
}

/** Whether a result fails the run (absolute timings never do). */
export function failsRun(result: BenchResult): boolean {
  return result.pass === false && !result.timing;
}

export const TIMING_NOTE =
  '(timing): an absolute time on a shared machine, shown against its target; only ratios, memory and correctness pass or fail.';

function verdict(r: BenchResult, fail: string): string {
  if (r.pass === null) return 'report';
  if (r.timing) return r.pass ? 'within (timing)' : 'over (timing)';
  return r.pass ? 'PASS' : fail;
}

export interface BenchOptions {
  /** Longer load runs and full-size transfers (`--full`). */
  full: boolean;
  /** Seconds per load run. */
  loadSeconds: number;
  /** Figures one benchmark leaves for another in the same run (e.g. the status rate for /app). */
  shared: Map<string, number>;
}

export interface Benchmark {
  name: string;
  title: string;
  run(options: BenchOptions): Promise<BenchResult[]>;
}

export function parseArgs(argv: string[]): { names: string[]; full: boolean; loadSeconds: number | null } {
  const names: string[] = [];
  let full = false;
  let loadSeconds: number | null = null;
  for (const arg of argv) {
    if (arg === '--full') full = true;
    else if (arg.startsWith('--seconds=')) loadSeconds = Number(arg.slice('--seconds='.length));
    else if (!arg.startsWith('-')) names.push(arg);
  }
  return { names, full, loadSeconds };
}

export function benchOptions(args: { full: boolean; loadSeconds: number | null }): BenchOptions {
  return { full: args.full, loadSeconds: args.loadSeconds ?? (args.full ? 20 : 5), shared: new Map() };
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3).replace(/\.?0+$/, '') || '0';
}

export function formatTable(results: BenchResult[]): string {
  const rows = [
    ['benchmark', 'figure', 'value', 'baseline', 'ratio', 'target', 'result'],
    ...results.map((r) => [
      r.bench,
      r.figure,
      `${formatNumber(r.value)} ${r.unit}`.trim(),
      r.baseline ? `${formatNumber(r.baseline.value)} (${r.baseline.label})` : '—',
      r.ratio === null ? '—' : r.ratio.toFixed(2),
      r.target,
      verdict(r, 'FAIL'),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
  const table = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
  return results.some((r) => r.timing) ? `${table}\n\n${TIMING_NOTE}` : table;
}

/** A Markdown table of the same figures (for the README's Performance section). */
export function formatMarkdown(results: BenchResult[]): string {
  const head = '| Benchmark | Figure | Value | Baseline | Ratio | Target | Result |\n|---|---|---|---|---|---|---|';
  const body = results.map(
    (r) =>
      `| ${r.bench} | ${r.figure} | ${formatNumber(r.value)} ${r.unit} | ${r.baseline ? `${formatNumber(r.baseline.value)} (${r.baseline.label})` : '—'} | ${
        r.ratio === null ? '—' : r.ratio.toFixed(2)
      } | ${r.target} | ${verdict(r, '**FAIL**').replace('PASS', 'pass')} |`,
  );
  return [head, ...body].join('\n');
}

const RESULTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Writes `bench/results/<time>.json` and `latest.json`; returns the timestamped path. */
export function writeResults(results: BenchResult[], options: BenchOptions): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const document = {
    at: new Date().toISOString(),
    node: process.version,
    cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? null,
    full: options.full,
    loadSeconds: options.loadSeconds,
    results,
  };
  const file = path.join(RESULTS_DIR, `${document.at.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(document, null, 2)}\n`);
  return file;
}

/** A single benchmark run from its own file (`tsx bench/status.ts [--full]`). */
export async function runAlone(benchmark: Benchmark): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const options = benchOptions(args);
  const results = await benchmark.run(options);
  process.stdout.write(`\n${formatTable(results)}\n`);
  process.stdout.write(`\nwritten: ${path.relative(process.cwd(), writeResults(results, options))}\n`);
  process.exitCode = results.some(failsRun) ? 1 : 0;
}

/** True when this module is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(metaUrl);
}
