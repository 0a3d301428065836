/**
 * @switchboard/agent-sdk: run agents in a Switchboard fleet over agent protocol v1
 * (docs/agent-protocol.md), with nothing but NATS.
 */
export { defineAgent } from './agent';
export type { AbortReason, Agent, AgentDefinition, AgentTask, Logger, TaskContext } from './agent';
export { CANNOT_HANDLE_CODE, GENERIC_ERROR_CODE, PermanentError, RESULT_INVALID_CODE, RetryableError, sanitizeErrorCode, SHUTDOWN_CODE, toFailure } from './errors';
export type { RetryableErrorOptions } from './errors';
export { runAgents, SDK_VERSION, ServiceError } from './runner';
export type { RunAgentsOptions, Runner, TaskEnd } from './runner';
export { AgentRouter } from './routing';
export * as protocol from './protocol';
export type { AgentErrorClass, AgentFailure, Lease, LeasedTask, Priority, TaskOutcome } from './protocol';
export { inboxPrefixOfCreds } from './nats-creds';
