import path from 'node:path';
import { benchOptions, failsRun, formatMarkdown, formatTable, parseArgs, writeResults, type Benchmark, type BenchResult } from './lib/report.ts';
import { statusBenchmark } from './status.ts';
import { appPageBenchmark } from './app-page.ts';
import { callbackBenchmark } from './callback.ts';
import { downloadBenchmark } from './download.ts';
import { serveBenchmark } from './serve.ts';
import { queueBenchmark } from './queue.ts';
import { creditsBenchmark } from './credits.ts';
import { pollingBenchmark } from './polling.ts';
import { statusStreamBenchmark } from './status-stream.ts';
import { exportsBenchmark } from './exports.ts';
import { promptSpeedBenchmark } from './prompt-speed.ts';
import { blobsBenchmark } from './blobs.ts';
import { enginesBenchmark } from './engines.ts';

/**
 * `npm run bench` runs every benchmark; `npm run bench -- status serve` runs those only.
 * `--full` uses 20 s load runs and reads the whole 500 MB video; `--seconds=N` sets the
 * load time; `--markdown` also prints the table for the README.
 */
const BENCHMARKS: Benchmark[] = [
  statusBenchmark,
  appPageBenchmark,
  callbackBenchmark,
  pollingBenchmark,
  statusStreamBenchmark,
  downloadBenchmark,
  serveBenchmark,
  queueBenchmark,
  creditsBenchmark,
  exportsBenchmark,
  promptSpeedBenchmark,
  blobsBenchmark,
  enginesBenchmark,
];

const args = parseArgs(process.argv.slice(2));
const unknown = args.names.filter((name) => !BENCHMARKS.some((b) => b.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark: ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(2);
}
const selected = args.names.length > 0 ? BENCHMARKS.filter((b) => args.names.includes(b.name)) : BENCHMARKS;
const options = benchOptions(args);
const results: BenchResult[] = [];
for (const benchmark of selected) {
  process.stdout.write(`… ${benchmark.name}: ${benchmark.title}\n`);
  try {
    results.push(...(await benchmark.run(options)));
  } catch (err) {
    results.push({
      bench: benchmark.name,
      figure: benchmark.title,
      value: NaN,
      unit: '',
      baseline: null,
      ratio: null,
      target: 'runs to the end',
      pass: false,
      note: err instanceof Error ? err.message : String(err),
    });
  }
}
process.stdout.write(`\n${formatTable(results)}\n`);
for (const r of results.filter((r) => r.note)) process.stdout.write(`\nnote (${r.bench}): ${r.note}`);
if (process.argv.includes('--markdown')) process.stdout.write(`\n\n${formatMarkdown(results)}\n`);
process.stdout.write(`\n\nwritten: ${path.relative(process.cwd(), writeResults(results, options))}\n`);
process.exitCode = results.some(failsRun) ? 1 : 0;
