#!/usr/bin/env node
import { main } from '../dist/cli/main.js';

// The AWS SDK warns about Node 20 on first use; that warning is noise in a CLI's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await main(process.argv.slice(2));
