// `node dist/scripts/new-api-key.js`: prints a new API key of the one format auth accepts
// (`sbk_` + 32 base62 characters + a checksum), e.g. for SB_BOOTSTRAP_ADMIN_KEY or
// SB_BOOTSTRAP_AGENT_KEY in a compose `.env` or a Kubernetes Secret.
import { generateApiKey } from '../libs/contracts/src/api-key-format';

process.stdout.write(`${generateApiKey()}\n`);
