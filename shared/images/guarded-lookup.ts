// A DNS lookup for sockets that refuses to hand back any address failing the policy. Used as
// the socket's own `lookup`, the check and the connect use the very same answer, so a DNS
// rebinding between "check" and "connect" has no gap to exploit.
import { promises as dns, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { UnsafeUrlError } from './fetch-errors';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to (tests inject a fixed table). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

export const resolveWithSystemDns: ResolveHost = async (hostname) => {
  const answers = await dns.lookup(hostname, { all: true, order: 'verbatim' });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  return err;
}

function wantedFamily(options: LookupOptions): 4 | 6 | undefined {
  const family = options.family;
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return undefined;
}

/**
 * A `net` lookup function: resolves every address of the host and fails the connection with
 * `url_resolves_to_private_address` if ANY of them fails `addressPolicy`. Refusing the whole
 * host (rather than picking its good addresses) is deliberate: a host mixing public and
 * private answers is either misconfigured or an attack.
 */
export function guardedLookup(resolve: ResolveHost, addressPolicy: (ip: string) => boolean): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const blocked = addresses.find((a) => !addressPolicy(a.address));
        if (blocked) {
          callback(
            new UnsafeUrlError(
              'url_resolves_to_private_address',
              `The image URL's host ${hostname} resolves to ${blocked.address}, which is not a public internet address.`,
            ),
            '',
          );
          return;
        }
        const family = wantedFamily(options);
        const usable = family === undefined ? addresses : addresses.filter((a) => a.family === family);
        if (usable.length === 0) {
          callback(notFound(hostname), '');
          return;
        }
        if (options.all) {
          callback(
            null,
            usable.map((a): LookupAddress => ({ address: a.address, family: a.family })),
          );
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}
