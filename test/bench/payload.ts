/**
 * What every task round-trip row sends (the JetStream floor, BullMQ, Switchboard over NATS and
 * HTTP): an `echo` task whose input is about 100 bytes of JSON, numbered so no two are alike.
 */
const FILLER = 'a closed-loop echo task: submit, a worker runs it, the caller has the result.';

export interface EchoInput {
  n: number;
  text: string;
}

export const echoInput = (n: number): EchoInput => ({ n, text: FILLER });
