import { startSandbox } from './index.ts';
import { DEFAULT_APP_URL, DEFAULT_SANDBOX_PORT } from './defaults.ts';

/** `npm run sandbox`: the emulators on SANDBOX_PORT (default 4010), talking back to BEEM_URL. */
const port = Number(process.env.SANDBOX_PORT ?? DEFAULT_SANDBOX_PORT);
const sandbox = await startSandbox({ port, appUrl: process.env.BEEM_URL ?? DEFAULT_APP_URL });
console.log(`Beem sandbox is listening on ${sandbox.url}`);
for (const emulator of sandbox.emulators.values()) console.log(`  ${sandbox.url}${emulator.prefix}`);
console.log(`Operator alerts (Telegram inbox): ${sandbox.url}/telegram/inbox`);

const stop = () => void sandbox.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
