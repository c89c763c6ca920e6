/**
 * Issue 12 item 10: a driver error after connecting leaves as one of tend's errors naming Cassandra — exit 5 when
 * Cassandra could not serve the request, exit 1 when it refused it — with the driver's text on one line (no stack
 * trace), secrets masked. One mechanism: the session's client maps every request (guardClient).
 */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { ClusterUnavailable, RequestRefused, TendError } from '../../../src/errors.js';
import {
  cassandraError,
  describeStatement,
  driverErrorOf,
  guardClient,
  allRows,
} from '../../../src/cluster/session.js';
import { registerSecret, resetSecrets } from '../../../src/config/secrets.js';

const { errors, types } = cassandra;
const codes = types.responseErrorCodes;

function responseError(code: number, message: string): Error {
  return new errors.ResponseError(code, message);
}

/** What the driver throws when every host failed: its message embeds the inner error's stack. */
function noHost(): Error {
  const inner = new errors.OperationTimedOutError('The host 127.0.0.1:9042 did not reply before timeout 12000 ms');
  return new errors.NoHostAvailableError({ '127.0.0.1:9042': inner });
}

describe('driver errors become tend errors naming Cassandra', function () {
  afterEach(() => resetSecrets());

  const unavailable: Array<[string, () => Error]> = [
    ['no host available (its message carries a stack trace)', noHost],
    ['a client-side timeout', () => new errors.OperationTimedOutError('The host did not reply before timeout')],
    ['unavailable', () => responseError(codes.unavailableException, 'Cannot achieve consistency level LOCAL_QUORUM')],
    ['a read timeout', () => responseError(codes.readTimeout, 'Operation timed out - received only 1 responses.')],
    ['a write timeout', () => responseError(codes.writeTimeout, 'Operation timed out - received only 0 responses.')],
    ['overloaded', () => responseError(codes.overloaded, 'Server is in overloaded state')],
    ['a server error', () => responseError(codes.serverError, 'java.lang.RuntimeException: boom\n\tat a.b(C.java:1)')],
    ['a busy connection', () => new errors.BusyConnectionError('127.0.0.1:9042', 2048, 1)],
  ];
  for (const [what, make] of unavailable) {
    it(`${what}: ClusterUnavailable, exit 5, one line`, function () {
      const mapped = cassandraError(make(), 'reading tend.schema_version');
      expect(mapped).to.be.instanceOf(ClusterUnavailable);
      const error = mapped as ClusterUnavailable;
      expect(error.exitCode).to.equal(5);
      expect(error.system).to.equal('cassandra');
      expect(error.message).to.match(/^cassandra unavailable: reading tend\.schema_version: /);
      expect(error.message).to.not.match(/\n|\bat .*\(.*:\d+\)|\.js:\d+/);
    });
  }

  const refused: Array<[string, () => Error]> = [
    ['an invalid query', () => responseError(codes.invalid, 'unconfigured table repair_state')],
    ['a syntax error', () => responseError(codes.syntaxError, "line 1:0 no viable alternative at input 'SELEC'")],
    ['a missing permission', () => responseError(codes.unauthorized, 'User tend has no SELECT permission')],
  ];
  for (const [what, make] of refused) {
    it(`${what}: RequestRefused, exit 1, naming Cassandra`, function () {
      const mapped = cassandraError(make(), 'reading tend.repair_state') as RequestRefused;
      expect(mapped).to.be.instanceOf(RequestRefused);
      expect(mapped.exitCode).to.equal(1);
      expect(mapped.message).to.match(/^cassandra refused reading tend\.repair_state: /);
    });
  }

  it("tend's own errors and programming errors pass through unchanged", function () {
    const own = new TendError('mine');
    const bug = new TypeError('x is not a function');
    expect(cassandraError(own, 'x')).to.equal(own);
    expect(cassandraError(bug, 'x')).to.equal(bug);
  });

  it('the driver error stays reachable for code that decides by its code (LWT outcomes)', function () {
    const raw = responseError(codes.writeTimeout, 'timeout');
    const mapped = cassandraError(raw, 'writing tend.leases');
    expect(driverErrorOf(mapped)).to.equal(raw);
    expect(driverErrorOf(raw)).to.equal(raw);
    expect(driverErrorOf(new Error('x'))).to.equal(undefined);
  });

  it('a secret echoed by the server is masked where the text enters', function () {
    registerSecret('s3cret-from-a-file');
    const mapped = cassandraError(
      responseError(codes.serverError, 'bad credentials s3cret-from-a-file'),
      'reading x',
    ) as Error;
    expect(mapped.message).to.not.include('s3cret-from-a-file');
    expect(mapped.message).to.include('[redacted]');
  });

  it('statements are described without their values', function () {
    expect(describeStatement('SELECT version FROM "tend".schema_version WHERE component = ?')).to.equal(
      'reading "tend".schema_version',
    );
    expect(describeStatement('INSERT INTO tend.repair_history (a) VALUES (?)')).to.equal('writing tend.repair_history');
    expect(describeStatement('UPDATE tend.leases USING TTL ? SET holder = ?')).to.equal('writing tend.leases');
    expect(describeStatement("DELETE FROM tend.leases WHERE resource = 'x'")).to.equal('deleting from tend.leases');
    expect(describeStatement('CREATE TABLE IF NOT EXISTS x (a int PRIMARY KEY)')).to.equal('changing the schema');
    expect(describeStatement({})).to.equal('a CQL request');
  });
});

describe('guardClient: every request of the session is mapped', function () {
  it('execute: a driver error becomes ClusterUnavailable naming the statement', async function () {
    const fake = {
      execute: async () => {
        throw noHost();
      },
      hosts: 'passed through',
    } as unknown as cassandra.Client;
    const client = guardClient(fake);
    expect((client as unknown as { hosts: string }).hosts).to.equal('passed through');
    const error = await client.execute('SELECT version FROM tend.schema_version').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.include('reading tend.schema_version');
  });

  it('a later page that fails is mapped the same way', async function () {
    const firstPage = {
      rows: [{ n: 1 }],
      rawPageState: Buffer.from('x'),
      pageState: 'x',
      nextPageAsync: async () => {
        throw responseError(codes.readTimeout, 'Operation timed out');
      },
    };
    Object.setPrototypeOf(firstPage, (types as unknown as { ResultSet: { prototype: object } }).ResultSet.prototype);
    const client = guardClient({ execute: async () => firstPage } as unknown as cassandra.Client);
    const error = await allRows(client, 'SELECT * FROM tend.repair_history').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterUnavailable);
    expect((error as Error).message).to.include('reading tend.repair_history');
  });

  it('batch errors are mapped', async function () {
    const client = guardClient({
      batch: async () => {
        throw responseError(codes.writeTimeout, 'timed out');
      },
    } as unknown as cassandra.Client);
    const error = await client.batch([]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClusterUnavailable);
  });
});
