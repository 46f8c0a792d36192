#!/usr/bin/env node
// The `mpc` command. Circuits are TypeScript modules loaded at run time, so the CLI
// runs its sources through tsx instead of shipping a separate build.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
