/**
 * The real network for federation: an HTTPS JSON client on node:https and SRV look-ups on node:dns. Everything
 * else in src/federation takes these as parameters. The client connects to the address discovery chose while
 * sending the server name as `Host` and checking the certificate against the name the spec says ("TLS",
 * "Resolving server names"); it caps the time and the size of a response, and refuses private addresses unless
 * allowed, checking the address it actually connects to, after DNS, so a name that resolves inward is refused too.
 */
import { LookupAddress, LookupOptions, lookup as dnsLookup, promises as dns } from 'node:dns';
import { request as httpsRequest } from 'node:https';
import { isIP, LookupFunction } from 'node:net';
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
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
}

const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export function createHttpsFetchJson(options: HttpsClientOptions): FetchJson {
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const ca = options.extraCaCertificates?.length ? [...rootCertificates, ...options.extraCaCertificates] : undefined;
  const lookup = options.allowPrivateAddresses ? undefined : publicOnlyLookup;
  return (url, requestOptions) => fetchJson(url, requestOptions, { ...options, maxBytes, ca, lookup });
}

interface Settings extends HttpsClientOptions {
  readonly maxBytes: number;
  readonly ca: string[] | undefined;
  readonly lookup: LookupFunction | undefined;
}

function fetchJson(url: string, options: FetchJsonOptions, settings: Settings): Promise<FetchJsonResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    if (target.protocol !== 'https:') return reject(new Error(`${url} is not an https: URL`));
    const host = unbracket(target.hostname);
    const tlsServerName = unbracket(options.tlsServerName ?? target.hostname);
    // An IP literal is connected to without a DNS look-up, so the lookup hook below never sees it.
    if (!settings.allowPrivateAddresses && isIP(host) && isPrivateAddress(host)) {
      return reject(new PrivateAddressError(`refusing to connect to ${host}: it is a private address`));
    }

    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const req = httpsRequest({
      host,
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
      checkServerIdentity: (_host: string, certificate: PeerCertificate) =>
        checkServerIdentity(tlsServerName, certificate),
      rejectUnauthorized: settings.verifyTls,
      ca: settings.ca,
      lookup: settings.lookup,
      agent: false,
    });

    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (declared > settings.maxBytes) {
        req.destroy(
          new Error(`the response from ${url} is ${declared} bytes, more than the ${settings.maxBytes} allowed`),
        );
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > settings.maxBytes)
          req.destroy(new Error(`the response from ${url} is more than ${settings.maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', () => undefined); // reported once, through req's 'error'
      res.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: flatHeaders(res.headers),
          json: parseJson(Buffer.concat(chunks)),
        });
      });
    });
    req.end(body);
  });
}

/** DNS through the system resolver, refusing the whole answer if any address in it is private. */
const publicOnlyLookup: LookupFunction = (hostname, options: LookupOptions, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const inward = addresses.find((entry) => isPrivateAddress(entry.address));
    if (inward !== undefined) {
      return callback(
        new PrivateAddressError(
          `refusing to connect to ${hostname}: it resolves to the private address ${inward.address}`,
        ),
        '',
        0,
      );
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (first === undefined)
      return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

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
