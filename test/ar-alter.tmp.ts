import { cqlClient } from './support/sandbox-clients.js';
const c = cqlClient(); await c.connect();
await c.execute("ALTER TABLE arx.t WITH auto_repair = {'full_enabled': 'true', 'incremental_enabled': 'false'}");
await c.shutdown();
