import { launch } from '@sb/observability';
import { authModule } from './auth.module';
import { loadAuthConfig } from './config';

launch('auth', loadAuthConfig, authModule);
