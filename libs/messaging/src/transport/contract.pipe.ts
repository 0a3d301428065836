/**
 * Validation as a Nest pipe, from the contract's zod schema: `@Payload(contract(Endpoints.x))` on
 * NATS, `@Body(contract(Endpoints.x))` or `@Query(...)` over HTTP, one definition for both.
 * Unknown fields are stripped by the schemas; a failure is REQUEST.INVALID naming every bad field.
 * Pipes run after guards, so a bad credential wins over a bad body.
 */
import type { PipeTransform } from '@nestjs/common';
import type { Endpoint } from '@sb/contracts';
import type { z } from 'zod';
import { validate } from '../codec';

export class ContractPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    return validate(this.schema, value);
  }
}

const pipes = new WeakMap<object, ContractPipe<z.ZodType>>();

/** The (shared) pipe validating an endpoint's request, or a bare schema. */
export function contract<S extends z.ZodType>(of: Endpoint<S, unknown> | S): ContractPipe<S> {
  let pipe = pipes.get(of);
  if (!pipe) {
    pipe = new ContractPipe('request' in of ? (of as Endpoint<S, unknown>).request : (of as S));
    pipes.set(of, pipe);
  }
  return pipe as ContractPipe<S>;
}
