/**
 * What of a channel is secret, and how it is shown: header values, the PagerDuty routing key,
 * URL credentials and query values, a Slack webhook's path, and any long token-like path
 * segment (webhook URLs often carry their token in the path). Replies show masked values;
 * error texts have every secret replaced before they are logged or recorded.
 */
import type { ChannelView, NotificationChannel } from '@sb/contracts';

const MASK = '****';
/** A path segment this long made of token characters is treated as a credential. */
const TOKEN_SEGMENT = /^[A-Za-z0-9_\-=.~]{20,}$/;

/** `****` plus the last 4 characters when the value is long enough that they give nothing away. */
export function maskValue(v: string): string {
  return v.length >= 16 ? `${MASK}${v.slice(-4)}` : MASK;
}

export function maskUrl(raw: string, slack: boolean): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return MASK;
  }
  const userinfo = u.username ? `${MASK}@` : '';
  const segments = u.pathname.split('/');
  const path = slack && u.pathname.length > 1 ? `/${MASK}` : segments.map((s) => (TOKEN_SEGMENT.test(s) ? MASK : s)).join('/');
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${MASK}`).join('&');
  return `${u.protocol}//${userinfo}${u.host}${path}${query ? `?${query}` : ''}`;
}

export function toView(c: NotificationChannel): ChannelView {
  const view: ChannelView = {
    ...c,
    url: maskUrl(c.url, c.type === 'slack'),
    headers: Object.fromEntries(Object.entries(c.headers).map(([k, v]) => [k, maskValue(v)])),
  };
  if (c.routingKey !== undefined) view.routingKey = maskValue(c.routingKey);
  if (c.signingSecret !== undefined) view.signingSecret = maskValue(c.signingSecret);
  return view;
}

/** Every secret string of a channel, longest first (so a secret containing another is replaced whole). */
export function secretsOf(c: Pick<NotificationChannel, 'url' | 'headers' | 'routingKey' | 'signingSecret'>): string[] {
  const out = new Set<string>();
  const add = (s: string | undefined) => {
    if (s && s.length >= 4) out.add(s);
  };
  for (const v of Object.values(c.headers)) add(v);
  add(c.routingKey);
  add(c.signingSecret);
  add(c.url);
  try {
    const u = new URL(c.url);
    add(u.pathname.length > 1 ? u.pathname : undefined);
    add(u.search.slice(1));
    for (const v of u.searchParams.values()) add(v);
    add(decodeURIComponent(u.password));
    add(u.password);
    add(decodeURIComponent(u.username));
    for (const s of u.pathname.split('/')) if (TOKEN_SEGMENT.test(s)) add(s);
  } catch {
    /* not a URL: the whole string is already listed */
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Replace every secret of the channel in a text (error messages, response snippets). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join(MASK);
  return out;
}
