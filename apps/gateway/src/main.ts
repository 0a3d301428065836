import { launch } from '@sb/observability';
import { loadGatewayConfig } from './config';
import { gatewayModule } from './gateway.module';

launch('gateway', loadGatewayConfig, gatewayModule);
