/**
 * A Nest `ClientProxy` over the bus, for code that wants Nest's client API
 * (`client.send(Endpoints.x, body)` → Observable, `client.emit(Events.x, body)`). It rides the
 * service's one connection and the same wire as `Bus.request`/`Bus.publish`: plain JSON, the
 * structured error rebuilt as an SbError. Switchboard's own services call `Bus.request`, which
 * awaits the reply without an Observable (the stock NATS ClientProxy costs a third of the
 * throughput); this is for users composing Switchboard calls into Nest apps of their own.
 */
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Bus } from '../bus';
import { isEndpoint, isEvent } from './patterns';

@Injectable()
export class SbClientProxy extends ClientProxy {
  constructor(@Inject(Bus) private readonly bus: Bus) {
    super();
  }

  async connect(): Promise<void> {
    /* the service's NatsClient is connected at module init */
  }

  close(): void {
    /* the connection belongs to the service, not to this client */
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let cancelled = false;
    const p = packet.pattern as unknown;
    const call = isEndpoint(p) && !isEvent(p) && 'request' in p ? this.bus.request(p, packet.data as never) : this.bus.requestSubject(String(p), packet.data);
    call.then(
      (response) => !cancelled && callback({ response, isDisposed: true }),
      (err: unknown) => !cancelled && callback({ err, isDisposed: true }),
    );
    return () => {
      cancelled = true;
    };
  }

  protected async dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    const p = packet.pattern as unknown;
    const subject = isEndpoint(p) && isEvent(p) ? p.subject(this.bus.names, this.bus.self) : String(p);
    this.bus.publish(subject, packet.data);
    return undefined as T;
  }
}
