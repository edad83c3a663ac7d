// The Node version check every entry point runs first. Plain JavaScript on
// purpose: Node older than 22.18 refuses a `.ts` file before any of its code
// runs, so the check cannot live in TypeScript. npm scripts load it with
// `node --import ./bin/require-node.mjs …`; a launcher imports it first.
// Too old → one line on stderr saying what to run instead, exit code 1.
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const wanted = /^>=\s*(\d+)\.(\d+)/.exec(pkg.engines.node);
if (!wanted) throw new Error(`package.json engines.node must read ">=X.Y", not ${pkg.engines.node}`);
const [major, minor] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = [Number(wanted[1]), Number(wanted[2])];

if (major < needMajor || (major === needMajor && minor < needMinor)) {
  const need = `${needMajor}.${needMinor}`;
  const script = process.env.npm_lifecycle_event;
  const hint = script
    ? // Under npm, node_modules/.bin/node (the `node` dev dependency) would have come first on PATH: it is missing.
      `the Node ${needMajor} that \`npm install\` puts in node_modules/.bin is missing (installed with --omit=dev or --ignore-scripts?): run \`npm install\`, then \`npm ${script === 'start' || script === 'test' ? script : `run ${script}`}\` again`
    : `run it through npm (\`npm start\`, \`npm run …\`), which uses the Node ${needMajor} that \`npm install\` brings, or as \`npx node ${process.argv[1] ? relative(process.argv[1]) : '<file>.ts'}\``;
  process.stderr.write(`reelay needs Node.js >= ${need}, this is ${process.version}: ${hint}\n`);
  process.exit(1);
}

function relative(file) {
  const cwd = `${process.cwd()}/`;
  return file.startsWith(cwd) ? file.slice(cwd.length) : file;
}
