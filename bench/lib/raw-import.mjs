// Vite's `?raw` imports (the SQL migrations) for plain Node + tsx: `tsx --import ./bench/lib/raw-import.mjs …`.
import { register } from 'node:module';

register('./raw-hooks.mjs', import.meta.url);
