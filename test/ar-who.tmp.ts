import { cqlClient } from './support/sandbox-clients.js';
const c = cqlClient(); await c.connect();
const h = await c.execute("SELECT coordinator, started_at, status FROM system_distributed.repair_history WHERE keyspace_name='arx' AND columnfamily_name='t'");
const by = new Map<string, number>();
for (const r of h.rows) by.set(String(r.get('coordinator')), (by.get(String(r.get('coordinator'))) ?? 0) + 1);
console.log([...by.entries()], h.rows.map(r=>r.get('started_at').toISOString()).sort().slice(-1));
await c.shutdown();
