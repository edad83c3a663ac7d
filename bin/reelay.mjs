#!/usr/bin/env node
// The `reelay` command (package.json "bin"): the Node version check first, then the CLI in TypeScript.
import './require-node.mjs';

await import('../cli/main.ts');
