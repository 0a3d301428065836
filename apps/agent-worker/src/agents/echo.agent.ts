/**
 * `echo`: returns the task input unchanged. The smallest useful agent, used by smoke tests and demos.
 */
import type { Agent, AgentTask } from '@switchboard/agent-sdk';

export class EchoAgent implements Agent {
  readonly name = 'echo';
  readonly capabilities = ['echo'] as const;

  async handle(task: AgentTask): Promise<{ echo: unknown }> {
    return { echo: task.input };
  }
}
