import { cqlClient } from './support/sandbox-clients.js';
const c = cqlClient(); await c.connect();
const mode = process.argv[2];
if (mode === 'create') {
  await c.execute("CREATE KEYSPACE IF NOT EXISTS arx WITH replication = {'class':'NetworkTopologyStrategy','dc1':2,'dc2':1}");
  await c.execute('CREATE TABLE IF NOT EXISTS arx.t (id int PRIMARY KEY, v text)');
  for (let i = 0; i < 5; i++) await c.execute('INSERT INTO arx.t (id, v) VALUES (?, ?)', [i, 'x'], { prepare: true });
  console.log('created', new Date().toISOString());
} else {
  const r = await c.execute("SELECT parent_id, keyspace_name, started_at, finished_at FROM system_distributed.parent_repair_history");
  const arx = r.rows.filter((x) => x.get("keyspace_name") === "arx");
  const h = await c.execute("SELECT keyspace_name, columnfamily_name, coordinator, started_at, status FROM system_distributed.repair_history WHERE keyspace_name='arx' AND columnfamily_name='t'");
  console.log("parents", r.rowLength, "arx parents", arx.length, 'arx sessions', h.rowLength, h.rows.slice(0,3).map(x=>`${x.get('coordinator')} ${x.get('started_at')?.toISOString()} ${x.get('status')}`).join(' | '));
  const a = await c.execute('SELECT * FROM system_distributed.auto_repair_history').catch((e) => ({ rows: [], rowLength: String(e) }));
  console.log('auto_repair_history', a.rowLength, a.rows.map((x: any) => JSON.stringify(x)).join('\n').slice(0, 800));
}
await c.shutdown();
