// Module resolution hook for the simulator (see placement-cache.ts): the modules of src/core get the cached
// computePlacement when they import ./ring.js; everything else, including placement-cache.ts itself, the real one.
import { URL } from 'node:url';

const cached = new URL('./placement-cache.ts', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === './ring.js' && /\/src\/core\/[^/]+\.ts$/.test(context.parentURL ?? '')) {
    return nextResolve(cached, context);
  }
  return nextResolve(specifier, context);
}
