/**
 * What a NATS handler can know about the message it serves, as Nest's `@Ctx()`: the subject it
 * arrived on (a wildcard subscription's concrete subject), its headers, and reply headers the
 * handler wants sent back (e.g. RateLimit-*), on success and on error alike.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { BaseRpcContext } from '@nestjs/microservices';

/** What the context reads of a core message or a JetStream one. */
export interface WireMessage {
  readonly subject: string;
  readonly headers?: MsgHdrs;
  readonly data: Uint8Array;
}

export class SbContext extends BaseRpcContext<[WireMessage]> {
  /** Headers for the reply; created on first use. */
  replyHeaders?: MsgHdrs;
  private done = false;

  constructor(
    readonly msg: WireMessage,
    /** The endpoint's subject as subscribed (with its wildcards), or `<stream>/<durable>`: the metrics and span name. */
    readonly pattern: string,
    /** The handler's time limit (`@MessagePattern(e, { timeoutMs })`), if it has one. */
    readonly timeoutMs?: number,
    /** The JetStream message, for a consumer's handler. */
    readonly jsMsg?: JsMsg,
  ) {
    super([msg]);
  }

  /** A consumer's handler settled the message itself (nak with its own delay, or term). */
  get settled(): boolean {
    return this.done;
  }

  /** Consumer handlers: redeliver after `delayMs` instead of the transport's backoff. */
  nak(delayMs?: number): void {
    if (!this.jsMsg || this.done) return;
    this.done = true;
    this.jsMsg.nak(delayMs);
  }

  /** Consumer handlers: never redeliver. (No reason text: nats-server 2.9 ignores `+TERM <reason>`.) */
  term(): void {
    if (!this.jsMsg || this.done) return;
    this.done = true;
    this.jsMsg.term();
  }

  /** The JetStream delivery count (1 on the first delivery); 0 for core messages. */
  get deliveryCount(): number {
    return this.jsMsg?.info.deliveryCount ?? 0;
  }

  get subject(): string {
    return this.msg.subject;
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }

  header(name: string): string | undefined {
    return this.msg.headers?.get(name) || undefined;
  }

  /** The subject's last token (the agent id of `…heartbeat.<agentId>`). */
  get lastToken(): string {
    const s = this.msg.subject;
    return s.slice(s.lastIndexOf('.') + 1);
  }

  /** The subject's token at `index` (0-based), or '' when there is none. */
  token(index: number): string {
    return this.msg.subject.split('.')[index] ?? '';
  }

  setReplyHeader(name: string, value: string): void {
    (this.replyHeaders ??= natsHeaders()).set(name, value);
  }
}
