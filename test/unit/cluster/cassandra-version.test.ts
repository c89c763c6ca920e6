import { expect } from 'chai';
import {
  UnsupportedCassandraVersion,
  checkCassandraReleases,
  parseReleaseVersion,
} from '../../../src/cluster/cassandra-version.js';
import { ExitCode, exitCodeOf } from '../../../src/errors.js';

describe('Cassandra version check', function () {
  it('parses release_version strings, suffixes included', function () {
    expect(parseReleaseVersion('5.0.8')).to.deep.include({ major: 5, minor: 0, patch: 8 });
    expect(parseReleaseVersion('4.1.10-SNAPSHOT')).to.deep.include({ major: 4, minor: 1, patch: 10 });
    expect(parseReleaseVersion('5.0-beta1')).to.deep.include({ major: 5, minor: 0, patch: 0 });
    expect(parseReleaseVersion('garbage')).to.equal(undefined);
  });

  const cases: { name: string; versions: string[]; oldest?: string; refused?: RegExp }[] = [
    { name: 'a 5.0 cluster', versions: ['5.0.8', '5.0.8', '5.0.8'], oldest: '5.0.8' },
    { name: 'a 4.1 cluster', versions: ['4.1.10', '4.1.10', '4.1.10'], oldest: '4.1.10' },
    { name: 'a rolling upgrade from 4.1 to 5.0', versions: ['5.0.8', '4.1.10', '5.0.8'], oldest: '4.1.10' },
    { name: 'patch levels differ', versions: ['5.0.8', '5.0.2'], oldest: '5.0.2' },
    { name: 'a 4.0 node', versions: ['4.1.10', '4.0.17', '4.1.10'], refused: /127\.0\.0\.2 runs Cassandra 4\.0\.17/ },
    { name: 'a 3.11 cluster', versions: ['3.11.19'], refused: /127\.0\.0\.1 runs Cassandra 3\.11\.19/ },
    { name: 'an untried newer release', versions: ['5.1.0', '5.0.8'], refused: /127\.0\.0\.1 runs Cassandra 5\.1\.0/ },
    { name: 'an unreadable version', versions: ['x'], refused: /reports release_version "x"/ },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.refused ? 'refused' : `accepted, oldest ${c.oldest}`}`, function () {
      const nodes = c.versions.map((v, i) => ({ address: `127.0.0.${i + 1}`, releaseVersion: v }));
      if (c.refused) {
        let error: unknown;
        try {
          checkCassandraReleases(nodes);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(UnsupportedCassandraVersion);
        expect((error as Error).message).to.match(c.refused);
        expect((error as UnsupportedCassandraVersion).hints.join(' ')).to.include('4.1.x and 5.0.x');
        expect(exitCodeOf(error)).to.equal(ExitCode.Failure);
      } else {
        expect(checkCassandraReleases(nodes).text).to.equal(c.oldest);
      }
    });
  }

  it('a joining peer without release_version is skipped; no version at all is refused', function () {
    expect(
      checkCassandraReleases([
        { address: '127.0.0.1', releaseVersion: '5.0.8' },
        { address: '127.0.0.2', releaseVersion: null },
      ]).text,
    ).to.equal('5.0.8');
    expect(() => checkCassandraReleases([{ address: '127.0.0.1', releaseVersion: null }])).to.throw(
      UnsupportedCassandraVersion,
      /no node reported/,
    );
  });
});
