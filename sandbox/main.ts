import { startSandbox } from './index.ts';
import { sandboxOptionsFromEnv } from './env.ts';
import { describeSandbox } from './describe.ts';

/** `npm run sandbox`: every emulator on SANDBOX_PORT (default 4010), talking back to BEEM_URL. */
const sandbox = await startSandbox(sandboxOptionsFromEnv(process.env));
console.log(`Beem sandbox is listening on ${sandbox.url}`);
for (const line of describeSandbox(sandbox)) console.log(`  ${line}`);

const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
