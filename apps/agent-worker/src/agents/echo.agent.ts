/**
 * `echo`: returns the task input unchanged. The smallest useful agent, used by smoke tests and demos.
 */
import type { QueuedTask } from '@sb/contracts';
import type { Agent } from './agent';

export class EchoAgent implements Agent {
  readonly name = 'echo';
  readonly capabilities = ['echo'] as const;

  async handle(task: QueuedTask): Promise<{ echo: unknown }> {
    return { echo: task.input };
  }
}
