/**
 * The real network for federation: an HTTPS JSON client on node:https and SRV look-ups on node:dns. Everything
 * else in src/federation takes these as parameters. The client connects to the address discovery chose while
 * sending the server name as `Host` and checking the certificate against the name the spec says ("TLS",
 * "Resolving server names"); it caps the time and the size of a response, follows no redirect, and refuses private
 * addresses unless allowed. A name is resolved once, its addresses checked, and the connection made to the checked
 * address itself (the name goes only into SNI, the certificate check and `Host`), so a DNS answer that changes
 * between the check and the connection (DNS rebinding) cannot lead us inward.
 */
import { promises as dns } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { checkServerIdentity, PeerCertificate, rootCertificates } from 'node:tls';
import { FetchJson, FetchJsonOptions, FetchJsonResponse } from './fetch-json';
import { isPrivateAddress } from './private-addresses';
import { SrvRecord } from './server-discovery';

export interface HttpsClientOptions {
  /** FEDERATION_VERIFY_TLS: false accepts any certificate, for test networks only. */
  readonly verifyTls: boolean;
  /** FEDERATION_ALLOW_PRIVATE_ADDRESSES: true lets requests reach loopback and private networks. */
  readonly allowPrivateAddresses: boolean;
  /** Key responses are a few kilobytes; anything much larger is not one. */
  readonly maxResponseBytes?: number;
  /** Certificates to trust besides the system's roots (a private CA, or a test's self-signed certificate). */
  readonly extraCaCertificates?: readonly string[];
  /** A name's addresses (A and AAAA); the system resolver unless given. */
  readonly resolveAddresses?: ResolveAddresses;
  /** Whether we may connect to an address; by default any address unless allowPrivateAddresses is false. */
  readonly isAllowedAddress?: (address: string) => boolean;
}

export type ResolveAddresses = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** The system resolver (getaddrinfo, as node's own connections use), every address of the name. */
export const systemResolveAddresses: ResolveAddresses = (hostname) => dns.lookup(hostname, { all: true, order: 'verbatim' });

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export function createHttpsFetchJson(options: HttpsClientOptions): FetchJson {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const ca = options.extraCaCertificates?.length ? [...rootCertificates, ...options.extraCaCertificates] : undefined;
  const isAllowedAddress =
    options.isAllowedAddress ?? (options.allowPrivateAddresses ? () => true : (address: string) => !isPrivateAddress(address));
  const resolveAddresses = options.resolveAddresses ?? systemResolveAddresses;
  const settings: Settings = { ...options, maxBytes, ca };
  return (url, requestOptions) => {
    const target = new URL(url);
    if (target.protocol !== 'https:') return Promise.reject(new Error(`${url} is not an https: URL`));
    return new Promise<FetchJsonResponse>((resolve, reject) => {
      // One budget from the DNS look-up to the last byte of the body, and one way out: whichever of the answer, an
      // error of any phase, or the timer comes first settles the promise, and the others then do nothing.
      let abort: ((error: Error) => void) | undefined;
      let settled = false;
      const finish = (error: Error | undefined, response?: FetchJsonResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(response!);
        else {
          abort?.(error);
          reject(error);
        }
      };
      const timer = setTimeout(
        () => finish(new Error(`no answer from ${url} within ${requestOptions.timeoutMs} ms`)),
        requestOptions.timeoutMs,
      );
      connectAddress(unbracket(target.hostname), resolveAddresses, isAllowedAddress).then(
        (address) => {
          if (settled) return;
          try {
            abort = request(target, address, requestOptions, settings, finish);
          } catch (error) {
            // node:https throws at once for options it refuses (a header value it cannot send, say).
            finish(error instanceof Error ? error : new Error(String(error)));
          }
        },
        (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
      );
    });
  };
}

interface Settings extends HttpsClientOptions {
  readonly maxBytes: number;
  readonly ca: string[] | undefined;
}

/** The one address to connect to: the host itself when it is an IP, else the first its name resolves to, once. */
async function connectAddress(host: string, resolveAddresses: ResolveAddresses, isAllowed: (address: string) => boolean): Promise<string> {
  if (isIP(host)) {
    if (!isAllowed(host)) throw new PrivateAddressError(`refusing to connect to ${host}: it is a private address`);
    return host;
  }
  const addresses = await resolveAddresses(host);
  // The whole answer is refused if any address in it is private: a name that mixes the two is not a server's.
  const inward = addresses.find((entry) => !isAllowed(entry.address));
  if (inward !== undefined) {
    throw new PrivateAddressError(`refusing to connect to ${host}: it resolves to the private address ${inward.address}`);
  }
  const first = addresses[0];
  if (first === undefined) throw Object.assign(new Error(`${host} has no addresses`), { code: 'ENOTFOUND' });
  return first.address;
}

/**
 * Sends the request to `address` and calls `finish` once: with the response after its last byte, or with the first
 * error of the request, the connection or the response (a server that closes the connection in the middle of the
 * body is an error too, not a response that never ends). Returns how to abort it, which `finish` calls on a timeout.
 */
function request(
  target: URL,
  address: string,
  options: FetchJsonOptions,
  settings: Settings,
  finish: (error: Error | undefined, response?: FetchJsonResponse) => void,
): (error: Error) => void {
  const url = target.href;
  const tlsServerName = unbracket(options.tlsServerName ?? target.hostname);
  const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
  const req = httpsRequest({
    // The address that passed the check, never the name again: no second DNS look-up to be answered differently.
    host: address,
    port: target.port === '' ? 443 : Number(target.port),
    path: `${target.pathname}${target.search}`,
    method: options.method ?? 'GET',
    headers: {
      host: options.hostHeader ?? target.host,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': body.length }),
    },
    // "a SNI should be sent for the certificate which is expected, unless that certificate is expected to be an
    // IP address in which case SNI is not supported and should not be sent" (spec, "TLS"); '' sends none.
    servername: isIP(tlsServerName) ? '' : tlsServerName,
    checkServerIdentity: (_host: string, certificate: PeerCertificate) => checkServerIdentity(tlsServerName, certificate),
    rejectUnauthorized: settings.verifyTls,
    ca: settings.ca,
    agent: false,
  });
  const fail = (error: Error) => {
    finish(error);
    req.destroy();
  };
  req.on('error', fail);
  // 'close' after neither an answer nor an error (it should not happen, but a pending fetch must not outlive its socket).
  let responded = false;
  req.on('close', () => {
    if (!responded) finish(new Error(`the connection to ${url} closed before a response`));
  });
  req.on('response', (res) => {
    responded = true;
    const declared = Number(res.headers['content-length']);
    if (declared > settings.maxBytes) {
      fail(new Error(`the response from ${url} is ${declared} bytes, more than the ${settings.maxBytes} allowed`));
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    res.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > settings.maxBytes) fail(new Error(`the response from ${url} is more than ${settings.maxBytes} bytes`));
      else chunks.push(chunk);
    });
    res.on('error', fail);
    res.on('aborted', () => fail(new Error(`the connection to ${url} closed before the response ended`)));
    res.on('close', () => {
      if (!res.complete) fail(new Error(`the connection to ${url} closed before the response ended`));
    });
    res.on('end', () =>
      finish(undefined, { status: res.statusCode ?? 0, headers: flatHeaders(res.headers), json: parseJson(Buffer.concat(chunks)) }),
    );
  });
  req.end(body);
  return (error) => req.destroy(error);
}

/** SRV records from the system resolver; none (rather than an error) when the name has none. */
export async function resolveSrv(name: string): Promise<SrvRecord[]> {
  try {
    return await dns.resolveSrv(name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw error;
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function flatHeaders(headers: NodeJS.Dict<string | string[]>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}
