import type { LookupAddress } from 'node:dns';
import { guardedLookup, type ResolveHost } from '../../../shared/images/guarded-lookup';
import { isPublicAddress } from '../../../shared/images/ip-policy';

const table: ResolveHost = async (hostname) => {
  if (hostname === 'dual.example')
    return [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ];
  if (hostname === 'mixed.example')
    return [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
  return [];
};

interface Answer {
  err: NodeJS.ErrnoException | null;
  address: string | LookupAddress[];
  family?: number;
}

function ask(hostname: string, options: { all?: boolean; family?: number }): Promise<Answer> {
  const lookup = guardedLookup(table, isPublicAddress);
  return new Promise((resolve) =>
    lookup(hostname, options, (err, address, family) => resolve({ err, address, family })),
  );
}

describe('guardedLookup', () => {
  test('answers every address when the socket asks for all (happy eyeballs)', async () => {
    const { err, address } = await ask('dual.example', { all: true });
    expect(err).toBeNull();
    expect(address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  test('answers the first address of the requested family otherwise', async () => {
    expect(await ask('dual.example', {})).toMatchObject({ err: null, address: '93.184.216.34', family: 4 });
    expect(await ask('dual.example', { family: 6 })).toMatchObject({
      err: null,
      address: '2606:2800:220:1::1',
      family: 6,
    });
  });

  test('fails the whole host when any answer is private, whatever was asked for', async () => {
    for (const options of [{ all: true }, {}, { family: 4 }]) {
      const { err } = await ask('mixed.example', options);
      expect(err).toMatchObject({ code: 'url_resolves_to_private_address' });
      expect(err?.message).toMatch(/169\.254\.169\.254/);
    }
  });

  test('no answer is ENOTFOUND', async () => {
    expect((await ask('nothing.example', {})).err).toMatchObject({ code: 'ENOTFOUND' });
  });
});
