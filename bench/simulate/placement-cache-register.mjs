// `node --import tsx --import ./bench/simulate/placement-cache-register.mjs bench/simulate.ts`: see placement-cache.ts.
import { register } from 'node:module';

register('./placement-cache-hooks.mjs', import.meta.url);
