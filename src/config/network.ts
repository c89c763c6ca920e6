/**
 * What a host, a contact point and an HTTP URL in tend.yml may look like. Pure (node:net's isIP only parses), so
 * validation still touches nothing; each function returns what it found or why the text is not acceptable.
 */
import { isIP } from 'node:net';

export type HostKind = 'ipv4' | 'ipv6' | 'name';

export interface HostAndPort {
  host: string;
  kind: HostKind;
  /** Present when the text named a port. */
  port?: number;
  /** The IPv6 address was written in brackets (`[::1]`, `[::1]:9042`). */
  bracketed?: boolean;
}

/** RFC 1123 labels; `_` is tolerated because /etc/hosts and some internal DNS zones use it. */
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function hostKind(host: string): HostKind | { reason: string } {
  if (host === '') return { reason: 'the host is empty' };
  if (host.startsWith('-')) return { reason: 'a host cannot start with "-" (it would be read as an option)' };
  const ip = isIP(host);
  if (ip === 4) return 'ipv4';
  if (ip === 6) return 'ipv6';
  // All digits and dots: meant as an IPv4 address, and not a valid one (256.0.0.1, 10.1).
  if (/^[\d.]+$/.test(host)) return { reason: `${host} is not a valid IPv4 address` };
  if (
    host.length > 253 ||
    !host
      .replace(/\.$/, '')
      .split('.')
      .every((label) => LABEL.test(label))
  ) {
    return { reason: 'a host name has letters, digits, "-", "_" and "." only' };
  }
  return 'name';
}

function port(text: string): number | { reason: string } {
  if (!/^\d+$/.test(text)) return { reason: `port "${text}" is not a number` };
  const value = Number(text);
  if (value < 1 || value > 65535) return { reason: `port ${text} is outside 1-65535` };
  return value;
}

/**
 * A Cassandra contact point: `host`, `host:port`, `[ipv6]` or `[ipv6]:port`. An IPv6 address without brackets is
 * refused: `::1:9042` cannot say where the address ends, and the driver and tend would read it differently.
 */
export function parseContactPoint(text: string): HostAndPort | { reason: string } {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.includes('/')) {
    return { reason: 'no scheme or path here, just the host (10.0.0.1, cass1.example.com:9042)' };
  }
  if (/\s/.test(text)) return { reason: 'a contact point has no spaces' };
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const host = bracketed[1] ?? '';
    if (isIP(host) !== 6) return { reason: `${host || 'nothing'} in brackets is not an IPv6 address` };
    if (bracketed[2] === undefined) return { host, kind: 'ipv6', bracketed: true };
    const value = port(bracketed[2]);
    return typeof value === 'number' ? { host, kind: 'ipv6', port: value, bracketed: true } : value;
  }
  const colons = text.split(':').length - 1;
  if (colons > 1) {
    return {
      reason: isIP(text) === 6 ? 'write an IPv6 address in brackets: [::1] or [::1]:9042' : 'too many ":"',
    };
  }
  const [host = '', portText] = text.split(':');
  const kind = hostKind(host);
  if (typeof kind !== 'string') return kind;
  if (portText === undefined) return { host, kind };
  const value = port(portText);
  return typeof value === 'number' ? { host, kind, port: value } : value;
}

/** A host where a program takes a host alone (nodetool -h): a name, an IPv4 or an IPv6 address, no port. */
export function parseHost(text: string): HostAndPort | { reason: string } {
  const inner = /^\[(.*)\]$/.exec(text)?.[1];
  if (inner !== undefined) {
    return isIP(inner) === 6 ? { host: inner, kind: 'ipv6', bracketed: true } : { reason: 'not an IPv6 address' };
  }
  if (text.includes(':') && isIP(text) !== 6) return { reason: 'a host without a port (the port has its own key)' };
  const kind = hostKind(text);
  if (typeof kind !== 'string') return kind;
  return { host: text, kind };
}

/** 127.0.0.0/8, ::1 and `localhost`: traffic that never leaves the machine. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare) || bare.startsWith('::ffff:127.');
  return false;
}

/** The URL as text for messages: any `user:password@` and `?query` (`?token=…`) replaced. */
export function redactUrl(text: string): string {
  // Any `…@` before the first slash of the host part, with or without a scheme (`user:secret@host` parses as a
  // URL with the scheme `user`).
  return text.replace(/\?[^#]*/, '?[redacted]').replace(/[^/?#@]*@/g, '[redacted]@');
}

export interface HttpUrlRules {
  /** Where credentials go instead, for the message when the URL carries some. */
  credentialsGo: string;
  /** A query string is refused (tend appends the API path to the address). */
  noQuery?: boolean;
}

/** An http:// or https:// URL without credentials; the parsed URL, or why not. */
export function checkHttpUrl(text: string, rules: HttpUrlRules): URL | { reason: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { reason: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { reason: `the scheme must be http or https, not ${url.protocol.replace(/:$/, '')}` };
  }
  if (url.username || url.password) {
    return {
      reason: `credentials do not belong in the URL, where \`config show\` and logs would print them; ${rules.credentialsGo}`,
    };
  }
  if (url.hostname === '') return { reason: 'the URL has no host' };
  if (url.hash) return { reason: 'a URL here has no #fragment' };
  if (rules.noQuery && url.search) {
    return { reason: 'a URL here has no ?query (tend appends the API path to it)' };
  }
  return url;
}
