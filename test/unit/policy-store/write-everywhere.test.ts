/** Policy writes go out at EACH_QUORUM and fall back to LOCAL_QUORUM only when a datacenter is unreachable. */
import { expect } from 'chai';
import cassandra from 'cassandra-driver';
import { writeEverywhere, type CqlClient } from '../../../src/cluster/policy-store.js';

const { consistencies, responseErrorCodes } = cassandra.types;

/** A hand-written fake of the one driver call the store uses: fails with `failure` at EACH_QUORUM. */
function fakeClient(failure?: { code: number; message: string }) {
  const calls: number[] = [];
  const client = {
    execute: async (_query: string, _params: unknown[], options: { consistency: number }) => {
      calls.push(options.consistency);
      if (failure && options.consistency === consistencies.eachQuorum) {
        throw Object.assign(new Error(failure.message), { code: failure.code });
      }
      return { rows: [] };
    },
  } as unknown as CqlClient;
  return { client, calls };
}

describe('policy store: writeEverywhere', () => {
  it('writes at EACH_QUORUM when every datacenter answers', async () => {
    const { client, calls } = fakeClient();
    expect(await writeEverywhere(client, 'INSERT', [])).to.deep.equal({ consistency: 'EACH_QUORUM' });
    expect(calls).to.deep.equal([consistencies.eachQuorum]);
  });

  for (const [what, code] of [
    ['unavailable', responseErrorCodes.unavailableException],
    ['write timeout', responseErrorCodes.writeTimeout],
  ] as const) {
    it(`falls back to LOCAL_QUORUM on ${what} and says so`, async () => {
      const { client, calls } = fakeClient({ code, message: what });
      expect(await writeEverywhere(client, 'INSERT', [])).to.deep.equal({ consistency: 'LOCAL_QUORUM' });
      expect(calls).to.deep.equal([consistencies.eachQuorum, consistencies.localQuorum]);
    });
  }

  it('rethrows anything else (a syntax error must not be retried at a weaker level)', async () => {
    const { client, calls } = fakeClient({ code: responseErrorCodes.syntaxError, message: 'bad cql' });
    const error = await writeEverywhere(client, 'INSERT', []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as Error).message).to.equal('bad cql');
    expect(calls).to.deep.equal([consistencies.eachQuorum]);
  });
});
