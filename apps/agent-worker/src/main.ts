import { launch } from '@sb/observability';
import { agentWorkerModule } from './agent-worker.module';
import { loadWorkerConfig } from './config';

// An agent like any other: no bus handlers, only the SDK's connection (and HTTP for health and metrics).
launch('agent-worker', loadWorkerConfig, agentWorkerModule, { bus: false });
