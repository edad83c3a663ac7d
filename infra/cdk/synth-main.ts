import path from 'node:path';
import { loadConfigOrExit } from '../../core/config/index.ts';
import { buildApp } from './app.ts';

/**
 * `npm run cdk:synth` (offline: no AWS call, no Docker): writes the
 * CloudFormation template and assets to infra/cdk/cdk.out. Deploy it with the
 * CDK CLI: `npx aws-cdk deploy --app infra/cdk/cdk.out`.
 */
const outdir = path.resolve(import.meta.dirname, 'cdk.out');
const { app, stack } = buildApp(loadConfigOrExit('reelay cdk:synth'), outdir);
const assembly = app.synth();
const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string }> };
const counts = new Map<string, number>();
for (const resource of Object.values(template.Resources)) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
process.stdout.write(
  `${stack.stackName}: ${Object.keys(template.Resources).length} resources written to ${path.relative(process.cwd(), outdir)}\n`,
);
for (const [type, n] of [...counts].sort()) process.stdout.write(`  ${String(n).padStart(3)} ${type}\n`);
